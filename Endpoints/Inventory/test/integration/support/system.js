'use strict';

// The real Inventory process against the real broker and database (the tests' vhost and database, which
// ./build.sh test creates and starts), and what a test needs around it: publishing as another endpoint's broker user,
// catching what Inventory publishes, reading its database.
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const amqp = require('amqplib');
const { Pool } = require('pg');
const { randomUUID } = require('node:crypto');

const PACKAGE = path.resolve(__dirname, '../../..');
const topology = JSON.parse(fs.readFileSync(path.resolve(PACKAGE, '../../deploy/topology.json'), 'utf8'));
const processOf = (name) => topology.processes.find((p) => p.name === name);
const inventory = processOf('inventory');
const VHOST = encodeURIComponent(topology.vhosts.tests);
const DATABASE = `${inventory.database}_systest`;

/** An AMQP URI of the tests' vhost as an endpoint's own broker user (LOCAL DEVELOPMENT DEFAULT passwords), or the operator's. */
const brokerUri = (name) => (name === 'operator'
  ? `amqp://${topology.operatorUser}:${topology.operatorDevelopmentPassword}@127.0.0.1:5672/${VHOST}`
  : `amqp://${processOf(name).brokerUser}:${processOf(name).developmentPassword}@127.0.0.1:5672/${VHOST}`);

const database = () => new Pool({
  host: '127.0.0.1', port: 5432, database: DATABASE, user: inventory.databaseRole, password: inventory.developmentPassword, max: 2,
});

/** Polls until `probe` returns something truthy; fails naming `what` after the deadline. */
async function eventually(probe, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts Inventory as ./build.sh test would, on its test port; resolves once /health/ready answers 200. */
async function startInventory(settings = {}) {
  const output = [];
  const child = spawn('node', ['src/main.js'], {
    cwd: PACKAGE,
    env: {
      ...process.env,
      ASPNETCORE_ENVIRONMENT: 'Development',
      Urls: `http://127.0.0.1:${inventory.testPort}`,
      ConnectionStrings__Database: `Host=127.0.0.1;Port=5432;Database=${DATABASE};Username=${inventory.databaseRole};Password=${inventory.developmentPassword}`,
      ConnectionStrings__RabbitMq: brokerUri('inventory'),
      Conveyor__Recoverability__ImmediateRetries: '1',
      Conveyor__Recoverability__DelayedRetries: '00:00:00.200,00:00:00.400',
      Conveyor__Heartbeats__Interval: '00:00:01',
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  child.stderr.on('data', (chunk) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${inventory.testPort}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`Inventory exited with ${child.exitCode}:\n${output.join('\n')}`);
    try { return (await fetch(`${url}/health/ready`)).status === 200; } catch { return false; }
  }, 'Inventory to be ready');
  return {
    url,
    output,
    exited,
    async stop() {
      if (child.exitCode !== null) return exited;
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * A broker connection as `user`, with a queue of its own bound to `exchanges`: what arrives there can be awaited.
 * @param {string} user @param {string[]} exchanges
 */
async function connectAs(user, exchanges = []) {
  const connection = await amqp.connect(brokerUri(user));
  const channel = await connection.createConfirmChannel();
  const received = [];
  if (exchanges.length) {
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const exchange of exchanges) await channel.bindQueue(queue, exchange, '');
    await channel.consume(queue, (message) => received.push(message), { noAck: true });
  }
  const brokerUser = user === 'operator' ? topology.operatorUser : processOf(user).brokerUser;
  return {
    channel,
    received,
    /** Publishes as this user does (its `user_id`), and resolves once the broker confirmed it. */
    publish(exchange, body, properties = {}) {
      const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      return new Promise((resolve, reject) => channel.publish(exchange, '', content, {
        messageId: randomUUID(), contentType: 'application/json', persistent: true, userId: brokerUser, ...properties,
      }, (error) => (error ? reject(error) : resolve())));
    },
    /** The first message received that `matches`, waiting for it. */
    next: (matches, what, timeoutMs) => eventually(() => received.find(matches), what, timeoutMs),
    close: () => connection.close(),
  };
}

const header = (message, name) => {
  const value = message.properties.headers?.[name];
  return Buffer.isBuffer(value) ? value.toString() : value;
};

module.exports = { topology, inventory, startInventory, connectAs, database, eventually, header, randomUUID };
