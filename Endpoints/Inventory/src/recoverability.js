'use strict';

const { SpanKind, trace } = require('@opentelemetry/api');
const { inTransaction } = require('./database');
const { enqueue } = require('./outbox');
const { describe } = require('./auditing');
const { decodeDelivery, PoisonMessageError, shortName } = require('./contracts');
const { extractParent, inSpan } = require('./telemetry');
const { named } = require('./logging');

// Failure headers ride with the message into `error`; amqplib refuses header tables over 64 KiB.
const MAX_FAILURE_TEXT = 4096;
const cut = (text) => (text.length > MAX_FAILURE_TEXT ? `${text.slice(0, MAX_FAILURE_TEXT)}… (${text.length} characters)` : text);

/**
 * The failed message for `error`, as ServiceControl reads it: the original body and properties, the original headers,
 * why it failed and where (the same failure headers as the .NET endpoints' Hosting/Recoverability.cs).
 * @param {import('./contracts').Delivery} delivery
 * @param {Error} error
 * @param {{ attempts: number, firstFailureAt: Date, lastFailureAt: Date }} failure
 * @param {{ endpoint: string, instance: string, queue: string, brokerUser: string, errorQueue: string }} where
 * @returns {import('./contracts').WireMessage}
 */
function errorMessage(delivery, error, failure, where) {
  return {
    // The `error` fanout exchange, never the default one: the broker definitions grant that, and bind it to the queue.
    exchange: where.errorQueue,
    routingKey: '',
    properties: {
      messageId: delivery.messageId,
      type: delivery.type,
      correlationId: delivery.correlationId,
      contentType: delivery.contentType ?? 'application/json',
      deliveryMode: 2,
      userId: where.brokerUser,
    },
    headers: {
      ...delivery.headers,
      ...describe(delivery, where),
      'exception-type': /** @type {any} */ (error).exceptionType ?? error.name ?? 'Error',
      'exception-message': cut(String(error.message ?? error)),
      'exception-stack': cut(String(error.stack ?? '')),
      'conveyor-endpoint': where.endpoint,
      'conveyor-queue': where.queue,
      'conveyor-message-type': delivery.type,
      ...(delivery.correlationId ? { 'conveyor-correlation-id': delivery.correlationId } : {}),
      'conveyor-first-failure-at': failure.firstFailureAt.toISOString(),
      'conveyor-last-failure-at': failure.lastFailureAt.toISOString(),
      'conveyor-attempts': String(failure.attempts),
    },
    body: delivery.body,
  };
}

/** @param {any} row a delayed_retries row @returns {import('./contracts').Delivery} */
function deliveryFromRow(row) {
  return { ...row.properties, headers: row.headers, body: row.body };
}

/**
 * How a delivery is handled and what happens when it fails:
 * - poison (unknown type, untrusted sender, not JSON, not the schema): straight to `error`, no inbox row;
 * - anything else: retried at once `ImmediateRetries` times, then stored in `delayed_retries` and acked, tried again
 *   from there at each delay (no broker round trip), and finally moved to `error`.
 * Moving to error goes through the outbox, so a failed message is never lost between the database and the broker.
 *
 * @param {{ pool: import('pg').Pool, config: import('./config').Config, schemas: import('./contracts').Schemas,
 *   handle: ReturnType<typeof import('./handling').createHandler>, handledTypes: string[],
 *   metrics: import('./metrics').Metrics, logger: import('pino').Logger, wakeOutbox: () => void }} deps
 */
function createRecoverability({ pool, config, schemas, handle, handledTypes, metrics, logger, wakeOutbox }) {
  const { immediateRetries, delayedRetries } = config.recoverability;
  const where = {
    endpoint: config.endpoint,
    instance: config.instance,
    queue: `rabbitmq://queue/${config.self.queue}`,
    brokerUser: config.brokerUser,
    errorQueue: config.topology.errorQueue,
  };
  const contracts = { topology: config.topology, schemas, handledTypes };

  /** The consumer span and the log fields of one delivery's handling. */
  function traced(delivery, fn) {
    const short = shortName(delivery.type || 'Unknown');
    return inSpan(`${config.endpoint} process ${short}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': config.self.queue,
        'messaging.message.id': delivery.messageId,
        'messaging.message.conversation_id': delivery.headers['conveyor-conversation-id'] ?? delivery.correlationId ?? '',
        'conveyor.order_id': delivery.correlationId ?? '',
        'messaging.message_type': delivery.type ?? '',
      },
    }, extractParent(delivery.headers), () => fn(named(logger, `Inventory.Messages.${short}`, {
      'conveyor.order_id': delivery.correlationId,
      'conveyor.message_id': delivery.messageId,
    })));
  }

  /** One timed attempt; counts it. */
  async function attempt(delivery, run) {
    const started = performance.now();
    try {
      return await run();
    } finally {
      metrics.attempt(delivery.type, performance.now() - started);
    }
  }

  /** What a successful attempt leaves in the metrics and the log. */
  function succeeded(delivery, outcome, log) {
    // How the handling ended, on its span, as the .NET endpoints say it (Hosting/MessageTelemetry.cs).
    trace.getActiveSpan()?.setAttribute('conveyor.outcome', outcome.duplicate ? 'duplicate' : 'handled');
    if (outcome.duplicate) {
      metrics.handled(delivery.type, 'duplicate');
      log.info(`${shortName(delivery.type)} ${delivery.messageId} was handled before; ignored`);
      return;
    }
    metrics.handled(delivery.type, 'processed');
    if (outcome.decision.result) metrics.reservation(outcome.decision.result);
    if (outcome.decision.note) log.warn(outcome.decision.note);
    else log.info(`Handled ${shortName(delivery.type)}${outcome.decision.result ? ` (${outcome.decision.result})` : ''}`);
    wakeOutbox();
  }

  /** @param {import('./stock').Transaction} tx */
  async function enqueueError(tx, delivery, error, failure, log) {
    await enqueue(tx, [errorMessage(delivery, error, failure, where)]);
    metrics.handled(delivery.type || 'unknown', 'moved_to_error');
    log.error({ err: error }, `Moved ${shortName(delivery.type || 'unknown')} ${delivery.messageId} to ${where.errorQueue} after ${failure.attempts} attempt(s)`);
  }

  /**
   * A delivery from the broker. Resolves once it may be acked: handled and committed, or durably handed to error or
   * to a delayed retry. Rejects only when even that could not be stored (then the broker redelivers it).
   * @param {import('./contracts').Delivery} delivery
   */
  function processDelivery(delivery) {
    return traced(delivery, async (log) => {
      const firstSeen = new Date();
      let message;
      try {
        message = decodeDelivery(delivery, contracts);
      } catch (error) {
        if (!(error instanceof PoisonMessageError)) throw error;
        await inTransaction(pool, (tx) => enqueueError(tx, delivery, error, { attempts: 1, firstFailureAt: firstSeen, lastFailureAt: firstSeen }, log));
        wakeOutbox();
        return;
      }

      let firstFailureAt = null;
      let lastError = null;
      const attempts = immediateRetries + 1;
      for (let number = 1; number <= attempts; number += 1) {
        try {
          const outcome = await attempt(delivery, () => inTransaction(pool, (tx) => handle(tx, delivery, message)));
          succeeded(delivery, outcome, log);
          return;
        } catch (error) {
          firstFailureAt ??= new Date();
          lastError = error;
          if (number < attempts || delayedRetries.length) {
            metrics.handled(delivery.type, 'retried');
            log.warn({ err: error }, `Attempt ${number} at ${shortName(delivery.type)} failed; ${number < attempts ? 'retrying at once' : `retrying in ${delayedRetries[0]} ms`}`);
          }
        }
      }

      const failure = { attempts, firstFailureAt: /** @type {Date} */ (firstFailureAt), lastFailureAt: new Date() };
      if (!delayedRetries.length) {
        await inTransaction(pool, (tx) => enqueueError(tx, delivery, /** @type {Error} */ (lastError), failure, log));
        wakeOutbox();
        return;
      }
      await pool.query(
        `INSERT INTO delayed_retries (message_id, properties, headers, body, attempts, delayed_rounds, first_failure_at, last_failure_at, next_attempt_at, last_error)
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $7::timestamptz + make_interval(secs => $8), $9)`,
        [
          delivery.messageId,
          JSON.stringify({ messageId: delivery.messageId, type: delivery.type, correlationId: delivery.correlationId, contentType: delivery.contentType, userId: delivery.userId }),
          JSON.stringify(delivery.headers),
          delivery.body,
          failure.attempts,
          failure.firstFailureAt,
          failure.lastFailureAt,
          delayedRetries[0] / 1000,
          cut(String(/** @type {Error} */ (lastError)?.stack ?? lastError)),
        ],
      );
    });
  }

  /**
   * Handles one due delayed retry, if any. The row is locked for the whole round; each attempt runs under a
   * savepoint, so a success deletes the row in the same transaction as its effects, and a failure reschedules the
   * row (or moves the message to error) in that transaction too.
   * @returns {Promise<boolean>} whether a row was due
   */
  async function processOneDueRetry() {
    const client = await pool.connect();
    let failed = false;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        'SELECT * FROM delayed_retries WHERE next_attempt_at <= now() ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT 1',
      );
      if (!rows.length) {
        await client.query('COMMIT');
        return false;
      }
      const row = rows[0];
      const delivery = deliveryFromRow(row);
      await traced(delivery, async (log) => {
        let lastError;
        let attempts = row.attempts;
        try {
          const message = decodeDelivery(delivery, contracts);
          for (let number = 1; number <= immediateRetries + 1; number += 1) {
            attempts += 1;
            await client.query('SAVEPOINT handling');
            try {
              const outcome = await attempt(delivery, () => handle(client, delivery, message));
              await client.query('DELETE FROM delayed_retries WHERE id = $1', [row.id]);
              await client.query('RELEASE SAVEPOINT handling');
              await client.query('COMMIT');
              succeeded(delivery, outcome, log);
              return;
            } catch (error) {
              await client.query('ROLLBACK TO SAVEPOINT handling');
              lastError = error;
              log.warn({ err: error }, `Delayed retry ${row.delayed_rounds + 1}, attempt ${number} at ${shortName(delivery.type)} failed`);
            }
          }
        } catch (error) {
          // The schemas changed under a stored message (a deploy): it can never be handled now.
          if (!(error instanceof PoisonMessageError)) throw error;
          lastError = error;
        }

        const round = row.delayed_rounds + 1;
        const failure = { attempts, firstFailureAt: row.first_failure_at, lastFailureAt: new Date() };
        if (round < delayedRetries.length && !(lastError instanceof PoisonMessageError)) {
          await client.query(
            `UPDATE delayed_retries SET attempts = $2, delayed_rounds = $3, last_failure_at = $4,
                    next_attempt_at = $4::timestamptz + make_interval(secs => $5), last_error = $6 WHERE id = $1`,
            [row.id, attempts, round, failure.lastFailureAt, delayedRetries[round] / 1000, cut(String(lastError?.stack ?? lastError))],
          );
          metrics.handled(delivery.type, 'retried');
        } else {
          await client.query('DELETE FROM delayed_retries WHERE id = $1', [row.id]);
          await enqueueError(client, delivery, lastError, failure, log);
        }
        await client.query('COMMIT');
        wakeOutbox();
      });
      return true;
    } catch (error) {
      failed = true;
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release(failed);
    }
  }

  let timer = null;
  let polling = null;
  return {
    processDelivery,
    processOneDueRetry,
    /** Polls delayed_retries every 250 ms, handling what is due one row at a time. */
    startDelayedRetries() {
      timer = setInterval(() => {
        if (polling) return;
        polling = (async () => {
          try {
            while (timer && (await processOneDueRetry()));
          } catch (error) {
            logger.warn({ err: error }, 'Could not handle the delayed retries; will try again');
          }
        })().finally(() => { polling = null; });
      }, 250);
    },
    async stopDelayedRetries() {
      clearInterval(timer);
      timer = null;
      await polling;
    },
  };
}

module.exports = { errorMessage, deliveryFromRow, createRecoverability };
