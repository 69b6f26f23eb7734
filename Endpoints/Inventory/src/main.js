'use strict';

const { loadConfig, ConfigurationError } = require('./config');
const { createLogger } = require('./logging');
const { startTelemetry } = require('./telemetry');
const { loadSchemas } = require('./contracts');
const { createPool, migrate } = require('./database');
const { seedStock } = require('./stockSeed');
const { createMetrics } = require('./metrics');
const { createHandler } = require('./handling');
const { createRecoverability } = require('./recoverability');
const { OutboxDispatcher, pendingCount } = require('./outbox');
const { startInboxPurge } = require('./inbox');
const { Broker } = require('./broker');
const { createHealth } = require('./health');
const { createHttpServer } = require('./http');
const { startHeartbeats } = require('./heartbeats');
const useCases = require('./useCases');

/** The messages Inventory reads (its bindings) and writes, as the topology declares them. */
function messagesOf(config) {
  const read = config.topology.messages.filter((m) => config.self.exchangesRead.includes(m.exchange)).map((m) => m.type);
  const written = config.topology.messages.filter((m) => m.senders.includes(config.brokerUser)).map((m) => m.type);
  const unhandled = read.filter((type) => !useCases[type]);
  if (unhandled.length) throw new ConfigurationError(`The topology binds Inventory to ${unhandled.join(', ')}, which it has no use case for`);
  return { read, written };
}

async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    // No logger yet (its fields need the configuration): one plain line on stderr.
    process.stderr.write(`Inventory cannot start: ${error.message}\n`);
    process.exit(1);
  }
  const instanceId = `${config.instance}-${process.pid}`;
  const logger = createLogger({ instanceId });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason instanceof Error ? reason : new Error(String(reason)) }, 'Unhandled promise rejection');
    process.exit(1);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'Uncaught exception');
    process.exit(1);
  });

  const telemetry = startTelemetry({ otlpEndpoint: config.telemetry.otlpEndpoint, instanceId });
  const state = { migrated: false, stopping: false };
  let pool;
  let schemas;
  let handledTypes;
  try {
    const messages = messagesOf(config);
    handledTypes = messages.read;
    schemas = loadSchemas(config.schemasDirectory, [...messages.read, ...messages.written]);
    pool = createPool(config.database, logger);
    await migrate(pool, config.migrationsDirectory, logger);
    state.migrated = true;
    await seedStock(pool, config.stockFile, logger);
  } catch (error) {
    logger.fatal({ err: error }, `Inventory cannot start: ${error.message}`);
    await pool?.end().catch(() => {});
    process.exit(1);
  }

  const metrics = createMetrics({ outboxPending: () => pendingCount(pool) });
  /** @type {OutboxDispatcher} */
  let dispatcher;
  const recoverability = createRecoverability({
    pool, config, schemas, handledTypes, metrics, logger,
    handle: createHandler({ useCases, schemas, config }),
    wakeOutbox: () => { dispatcher.wake(); },
  });
  const broker = new Broker({
    url: config.rabbitMqUrl,
    queue: config.self.queue,
    exchangesRead: config.self.exchangesRead,
    prefetch: 20,
    connectionName: `inventory@${config.instance}`,
    logger,
    onDelivery: (delivery) => recoverability.processDelivery(delivery),
  });
  dispatcher = new OutboxDispatcher({ pool, publish: (m) => broker.publish(m), canPublish: () => broker.canPublish, logger });
  const health = createHealth({ pool, broker, state });
  const serve = (port, servesMetrics) => {
    const server = createHttpServer({ health, registry: metrics.registry, scrapeNetworks: config.telemetry.scrapeNetworks, logger, servesMetrics });
    return new Promise((resolve, reject) => server.once('error', reject).listen(port, config.http.host, () => resolve(server)));
  };
  const servers = [await serve(config.http.port, config.managementPort === null)];
  if (config.managementPort !== null) servers.push(await serve(config.managementPort, true));

  broker.start();
  dispatcher.start();
  recoverability.startDelayedRetries();
  const stopInboxPurge = startInboxPurge(pool, logger);
  const stopHeartbeats = startHeartbeats({
    config, logger, publish: (m) => broker.publish(m), checks: () => health.heartbeatChecks(), counters: metrics.snapshot,
  });

  const announce = setInterval(async () => {
    if ((await health.ready()).status !== 'Healthy') return;
    clearInterval(announce);
    logger.info(`Inventory listening on ${config.http.url}`);
  }, 250);

  const shutdown = async (signal) => {
    if (state.stopping) return;
    state.stopping = true;
    clearInterval(announce);
    logger.info(`Stopping (${signal})`);
    setTimeout(() => { logger.error('Shutdown took longer than 30 s; exiting'); process.exit(1); }, 30_000).unref();
    try {
      stopHeartbeats();
      await broker.stopConsuming(10_000);
      await recoverability.stopDelayedRetries();
      stopInboxPurge();
      await dispatcher.stop();
      await broker.close();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
      await pool.end();
      await telemetry.shutdown();
      logger.info('Stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'Shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main();
