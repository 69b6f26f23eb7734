'use strict';

const crypto = require('node:crypto');
const { uuidv7 } = require('./contracts');

/**
 * The EndpointHeartbeat body, property for property as the .NET endpoints send it (ServiceControlContract.cs).
 * @param {{ endpoint: string, host: string, processId: number, startedAt: Date, sentAt: Date, interval: string,
 *   checks: { name: string, passed: boolean, reason: string | null }[],
 *   counters: { processed: number, retried: number, movedToError: number, processingMilliseconds: number, attempts: number } }} report
 */
function heartbeatBody({ endpoint, host, processId, startedAt, sentAt, interval, checks, counters }) {
  return {
    endpoint,
    host,
    processId,
    startedAt: startedAt.toISOString(),
    sentAt: sentAt.toISOString(),
    interval,
    checks: checks.map(({ name, passed, reason }) => ({ name, passed, reason })),
    counters: {
      processed: counters.processed,
      retried: counters.retried,
      movedToError: counters.movedToError,
      processingMilliseconds: counters.processingMilliseconds,
      attempts: counters.attempts,
    },
  };
}

/**
 * A heartbeat belongs to no order: no conversation headers, a fresh correlation id, and it is sent directly (not
 * through the outbox, not traced): a heartbeat that cannot be sent now is worthless later.
 * @param {object} body @param {string} brokerUser @param {Date} now
 * @returns {import('./contracts').WireMessage}
 */
function heartbeatMessage(body, brokerUser, now) {
  return {
    exchange: 'EndpointHeartbeat',
    routingKey: '',
    properties: {
      messageId: uuidv7(now.getTime()),
      type: 'Conveyor.Hosting.ServiceControl.EndpointHeartbeat',
      correlationId: crypto.randomUUID(),
      contentType: 'application/json',
      deliveryMode: 2,
      userId: brokerUser,
    },
    headers: {},
    body: Buffer.from(JSON.stringify(body)),
  };
}

/**
 * Sends a heartbeat every interval with the instance's health checks and counters. Silence is what ServiceControl
 * acts on, so a failed heartbeat is only a log line.
 * @param {{ config: import('./config').Config, publish: (m: import('./contracts').WireMessage[]) => Promise<void>,
 *   checks: () => Promise<{ name: string, passed: boolean, reason: string | null }[]>,
 *   counters: () => object, logger: import('pino').Logger }} deps
 * @returns {() => void} stop
 */
function startHeartbeats({ config, publish, checks, counters, logger }) {
  const startedAt = new Date(Date.now() - process.uptime() * 1000);
  const send = async () => {
    try {
      const now = new Date();
      const body = heartbeatBody({
        endpoint: config.endpoint,
        host: config.instance,
        processId: process.pid,
        startedAt,
        sentAt: now,
        interval: config.heartbeats.interval,
        checks: await checks(),
        counters: /** @type {any} */ (counters()),
      });
      await publish([heartbeatMessage(body, config.brokerUser, now)]);
    } catch (error) {
      logger.warn({ err: error }, 'Could not send a heartbeat to ServiceControl');
    }
  };
  const timer = setInterval(send, config.heartbeats.intervalMs);
  return () => clearInterval(timer);
}

module.exports = { heartbeatBody, heartbeatMessage, startHeartbeats };
