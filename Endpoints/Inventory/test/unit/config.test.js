'use strict';

const path = require('node:path');
const { loadConfig } = require('../../src/config');

const packageDir = path.resolve(__dirname, '../..');
// The port is the topology's (declared once, in Topology/SystemTopology.cs).
const { port } = require('../../../../deploy/topology.json').processes.find((p) => p.name === 'inventory');
const load = (env) => loadConfig(env, { packageDir, hostname: 'inventory-1' });

describe('configuration', () => {
  test('in Development, what is missing defaults from the topology', () => {
    const config = load({ ASPNETCORE_ENVIRONMENT: 'Development' });

    expect(config.http).toEqual({ url: `http://127.0.0.1:${port}`, host: '127.0.0.1', port });
    expect(config.database).toEqual({ host: '127.0.0.1', port: 5432, database: 'inventory', user: 'inventory', password: 'inventory-dev-only', max: 10 });
    expect(config.rabbitMqUrl).toBe('amqp://inventory:inventory-dev-only@127.0.0.1:5672/conveyor');
    expect(config.brokerUser).toBe('inventory');
    expect(config.self.exchangesRead).toEqual(['OrderCancelled', 'OrderConfirmed', 'OrderPlaced']);
    expect(config.recoverability).toEqual({ immediateRetries: 2, delayedRetries: [5000, 30_000, 120_000] });
    expect(config.heartbeats).toEqual({ intervalMs: 10_000, interval: '00:00:10' });
    expect(config.audit.enabled).toBe(true);
    expect(config.telemetry.otlpEndpoint).toBeNull();
    expect(config.telemetry.scrapeNetworks).toEqual([
      { address: '127.0.0.0', prefix: 8, family: 'ipv4' }, { address: '::1', prefix: 128, family: 'ipv6' },
    ]);
    expect(config.stockFile).toBe(path.resolve(packageDir, '../../deploy/catalog.json'));
    expect(config.schemasDirectory).toBe(path.resolve(packageDir, '../../Messages/schemas'));
    expect(config.instance).toBe('inventory-1');
  });

  test.each([
    ['Production', {}],
    ['Staging', { ConnectionStrings__Database: 'Host=db;Database=inventory;Username=inventory;Password=x' }],
  ])('outside Development (%s) a missing connection string stops the start, naming the variable', (environment, env) => {
    expect(() => load({ ASPNETCORE_ENVIRONMENT: environment, ...env })).toThrow(
      env.ConnectionStrings__Database ? /ConnectionStrings__RabbitMq is not set/ : /ConnectionStrings__Database is not set/,
    );
  });

  test('no ASPNETCORE_ENVIRONMENT is Production', () => {
    expect(() => load({})).toThrow(/ConnectionStrings__Database is not set/);
  });

  test('the settings the .NET endpoints read', () => {
    const config = load({
      ConnectionStrings__Database: 'Host=postgres;Port=5432;Database=inventory;Username=inventory;Password=pw;Maximum Pool Size=20',
      ConnectionStrings__RabbitMq: 'amqp://inventory:pw@rabbitmq:5672/conveyor',
      Urls: 'http://+:8080',
      Conveyor__Recoverability__ImmediateRetries: '0',
      Conveyor__Recoverability__DelayedRetries: '00:00:00.500,00:00:01,00:00:02',
      Conveyor__Heartbeats__Interval: '00:00:01',
      Conveyor__Audit__Enabled: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      Conveyor__Telemetry__ScrapeNetworks__1: '10.0.0.0/8',
      Conveyor__Telemetry__ScrapeNetworks__0: '172.16.0.0/12',
    });

    expect(config.http).toEqual({ url: 'http://+:8080', host: '0.0.0.0', port: 8080 });
    expect(config.database.max).toBe(20);
    expect(config.recoverability).toEqual({ immediateRetries: 0, delayedRetries: [500, 1000, 2000] });
    expect(config.heartbeats).toEqual({ intervalMs: 1000, interval: '00:00:01' });
    expect(config.audit.enabled).toBe(false);
    expect(config.telemetry.otlpEndpoint).toBe('http://collector:4318');
    expect(config.telemetry.scrapeNetworks.map((n) => n.address)).toEqual(['172.16.0.0', '10.0.0.0']);
  });

  test('a broker connection as another user is refused (RabbitMQ would refuse its user_id)', () => {
    expect(() => load({ ASPNETCORE_ENVIRONMENT: 'Development', ConnectionStrings__RabbitMq: 'amqp://orders:pw@127.0.0.1:5672/conveyor' }))
      .toThrow(/must connect as broker user 'inventory'/);
  });

  test('a topology file that is not there is named', () => {
    expect(() => load({ ASPNETCORE_ENVIRONMENT: 'Development', Conveyor__TopologyFile: '/nowhere/topology.json' })).toThrow(/Conveyor__TopologyFile/);
  });
});
