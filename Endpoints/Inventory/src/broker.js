'use strict';

const { once } = require('node:events');
const amqp = require('amqplib');
const { readDelivery } = require('./contracts');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Inventory's link to RabbitMQ: one connection, a channel consuming its queue and a confirm channel publishing.
 * Reconnects with backoff (1 s doubling to 10 s) whenever the connection is lost; not ready meanwhile.
 * Business code never sees amqplib: it gets Deliveries and hands over WireMessages.
 */
class Broker {
  /**
   * @param {{ url: string, queue: string, exchangesRead: string[], prefetch?: number, connectionName: string,
   *   logger: import('pino').Logger, onDelivery: (delivery: import('./contracts').Delivery) => Promise<void> }} options
   */
  constructor({ url, queue, exchangesRead, prefetch = 20, connectionName, logger, onDelivery }) {
    Object.assign(this, { url, queue, exchangesRead, prefetch, connectionName, logger, onDelivery });
    /** @type {import('amqplib').ChannelModel | null} */
    this.connection = null;
    /** @type {import('amqplib').Channel | null} */
    this.consumeChannel = null;
    /** @type {import('amqplib').ConfirmChannel | null} */
    this.publishChannel = null;
    /** @type {string | null} */
    this.consumerTag = null;
    this.closing = false;
    /** @type {Set<Promise<void>>} */
    this.inFlight = new Set();
    this.lastError = null;
  }

  /** The consumer is up: readiness and the heartbeat's broker check. */
  get consuming() { return Boolean(this.connection && this.consumerTag); }

  get canPublish() { return Boolean(this.connection && this.publishChannel); }

  /** Connects in the background; returns at once (the broker may come up after Inventory). */
  start() {
    this.connecting = this.connectUntilConnected();
  }

  async connectUntilConnected() {
    let delay = 1000;
    while (!this.closing) {
      try {
        await this.connect();
        this.logger.info(`Consuming ${this.queue} (bound to ${this.exchangesRead.join(', ')})`);
        return;
      } catch (error) {
        this.lastError = error;
        this.logger.warn({ err: error }, `Cannot connect to the broker; trying again in ${delay / 1000} s`);
        await sleep(delay);
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  async connect() {
    const connection = await amqp.connect(this.url, { clientProperties: { connection_name: this.connectionName } });
    try {
      connection.on('error', (error) => { this.lastError = error; this.logger.warn({ err: error }, 'Broker connection error'); });
      connection.on('close', () => this.lost(connection));

      const channel = await connection.createChannel();
      // Inventory alone declares its queue; exchanges belong to the broker definitions and are only bound to.
      await channel.assertQueue(this.queue, { durable: true, arguments: queueArguments(connection.connection.serverProperties?.version) });
      for (const exchange of this.exchangesRead) await channel.bindQueue(this.queue, exchange, '');
      await channel.prefetch(this.prefetch);
      // A channel the broker closed (an ack it did not expect, a deleted queue) is recovered like a lost connection.
      channel.on('close', () => { if (!this.closing) connection.close().catch(() => {}); });
      channel.on('error', (error) => this.logger.warn({ err: error }, 'Broker consumer channel error'));

      this.publishChannel = await this.openPublishChannel(connection);
      this.connection = connection;
      this.consumeChannel = channel;
      const { consumerTag } = await channel.consume(this.queue, (message) => this.deliver(channel, connection, message), { noAck: false });
      this.consumerTag = consumerTag;
      this.lastError = null;
    } catch (error) {
      this.connection = null;
      await connection.close().catch(() => {});
      throw error;
    }
  }

  /** @param {import('amqplib').ChannelModel} connection */
  async openPublishChannel(connection) {
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error) => this.logger.warn({ err: error }, 'Broker publishing channel error'));
    // Publishing to an exchange that does not exist closes the channel (404): the next publish opens a new one.
    channel.on('close', () => { if (this.publishChannel === channel) this.publishChannel = null; });
    return channel;
  }

  /** @param {import('amqplib').ChannelModel} connection */
  lost(connection) {
    if (this.connection !== connection && this.connection !== null) return;
    const wasConnected = this.connection === connection;
    this.connection = null;
    this.consumeChannel = null;
    this.publishChannel = null;
    this.consumerTag = null;
    if (wasConnected && !this.closing) {
      this.logger.warn('Lost the broker connection; reconnecting');
      this.connecting = this.connectUntilConnected();
    }
  }

  /**
   * Hands a delivery to the endpoint; acks once it is committed (or durably handed on), requeues it if it could not
   * be. Handlers run concurrently, up to the prefetch count.
   * @param {import('amqplib').Channel} channel @param {import('amqplib').ChannelModel} connection
   * @param {import('amqplib').ConsumeMessage | null} message
   */
  deliver(channel, connection, message) {
    if (!message) {
      // The broker cancelled the consumer (the queue was deleted): start again, which declares it anew.
      this.logger.warn(`The broker cancelled the consumer of ${this.queue}; reconnecting`);
      connection.close().catch(() => {});
      return;
    }
    const work = this.onDelivery(readDelivery(message))
      .then(() => channel.ack(message))
      .catch(async (error) => {
        this.logger.error({ err: error }, 'Could not handle a delivery nor store it for later; the broker will redeliver it');
        // A pause, so that a database outage does not become a redelivery storm.
        await sleep(1000);
        channel.nack(message, false, true);
      })
      // Acking on a channel that has closed throws: the broker redelivers the message, and the inbox knows it.
      .catch(() => {})
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  /**
   * Publishes on the confirm channel and resolves once the broker confirmed every message.
   * @param {import('./contracts').WireMessage[]} messages
   */
  async publish(messages) {
    if (!this.connection) throw new Error('Not connected to the broker');
    this.publishChannel ??= await this.openPublishChannel(this.connection);
    const channel = this.publishChannel;
    const confirmed = [];
    for (const m of messages) {
      let written = true;
      confirmed.push(new Promise((resolve, reject) => {
        const body = Buffer.isBuffer(m.body) ? m.body : Buffer.from(m.body);
        written = channel.publish(m.exchange, m.routingKey, body, { ...m.properties, headers: m.headers, mandatory: false },
          (error) => (error ? reject(error) : resolve(undefined)));
      }));
      if (!written) await once(channel, 'drain');
    }
    // amqplib fails the confirm callbacks of a channel that closes; this only makes sure nothing waits forever.
    const abandon = new AbortController();
    const closed = once(channel, 'close', { signal: abandon.signal })
      .then(() => { throw new Error('The broker closed the publishing channel before confirming'); });
    closed.catch(() => {});
    try {
      await Promise.race([Promise.all(confirmed), closed]);
    } finally {
      abandon.abort();
    }
  }

  /** Stops taking deliveries and waits for those being handled (at most `timeoutMs`). */
  async stopConsuming(timeoutMs = 10_000) {
    const channel = this.consumeChannel;
    const tag = this.consumerTag;
    this.consumerTag = null;
    if (channel && tag) await channel.cancel(tag).catch(() => {});
    await Promise.race([Promise.allSettled([...this.inFlight]), sleep(timeoutMs)]);
  }

  async close() {
    this.closing = true;
    const connection = this.connection;
    this.connection = null;
    if (connection) await connection.close().catch(() => {});
  }
}

/**
 * The broker must never drop or dead-letter a message for being redelivered: a killed consumer hands back all it
 * held, and the inbox makes a redelivery harmless. RabbitMQ 4 limits a quorum queue to 20 deliveries unless it is
 * declared with x-delivery-limit -1, while 3.x has no limit without the argument and reads -1 as "none at all", so
 * the argument depends on the version the broker reports (as Hosting/BrokerDeliveryLimit.cs does for .NET).
 * @param {Buffer | string | undefined} version
 */
function queueArguments(version) {
  const major = Number.parseInt(String(version ?? '').split('.')[0], 10);
  return { 'x-queue-type': 'quorum', ...(major >= 4 ? { 'x-delivery-limit': -1 } : {}) };
}

module.exports = { Broker, queueArguments };
