'use strict';

const { inTransaction } = require('./database');

/*
 * The transactional outbox, written by hand. pg-transactional-outbox (npm, 0.5.7) was considered: its logical-
 * replication listener needs wal_level=logical and a replication role, which the project's PostgreSQL does not run;
 * its polling listener needs neither, but it brings its own table layout, database functions and an inbox that stores
 * a message before handling it, where Conveyor's contract (shared with the .NET endpoints) is an inbox row and outbox
 * rows written in the handling transaction and a dispatcher publishing on a confirm channel. Those are a few dozen
 * lines; owning them keeps the tables the same as the .NET endpoints' guarantees describe.
 */

/**
 * Adds messages to the outbox in the caller's transaction: they are sent if and only if it commits.
 * @param {import('./stock').Transaction} tx @param {import('./contracts').WireMessage[]} messages
 */
async function enqueue(tx, messages) {
  if (!messages.length) return;
  await tx.query(
    `INSERT INTO outbox (exchange, routing_key, properties, headers, body)
     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::jsonb[], $5::bytea[])`,
    [
      messages.map((m) => m.exchange),
      messages.map((m) => m.routingKey),
      messages.map((m) => JSON.stringify(m.properties)),
      messages.map((m) => JSON.stringify(m.headers)),
      messages.map((m) => m.body),
    ],
  );
}

/**
 * Sends what the outbox holds: woken after each commit, polling every second in case a wake-up was lost (another
 * instance's rows, a crash), and once at start-up. Rows are locked SKIP LOCKED, so instances share the work; they
 * are deleted only after the broker confirmed them. A crash in between re-sends them: at least once, and every
 * receiver has an inbox.
 */
class OutboxDispatcher {
  /**
   * @param {{ pool: import('pg').Pool, publish: (messages: import('./contracts').WireMessage[]) => Promise<void>,
   *   canPublish: () => boolean, logger: import('pino').Logger, pollMs?: number, batchSize?: number }} options
   */
  constructor({ pool, publish, canPublish, logger, pollMs = 1000, batchSize = 100 }) {
    Object.assign(this, { pool, publish, canPublish, logger, pollMs, batchSize });
    /** @type {Promise<void> | null} */
    this.running = null;
    this.again = false;
    this.timer = null;
  }

  start() {
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.wake();
  }

  /** Dispatch soon; a wake-up during a round makes one more round, never two at once. */
  wake() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while (this.canPublish() && (await this.dispatchBatch()) === this.batchSize);
        } catch (error) {
          this.logger.warn({ err: error }, 'Could not dispatch the outbox; will try again');
        }
      } while (this.again && this.canPublish());
    })().finally(() => { this.running = null; });
    return this.running;
  }

  /** @returns {Promise<number>} how many messages were sent */
  async dispatchBatch() {
    return inTransaction(this.pool, async (tx) => {
      const { rows } = await tx.query(
        'SELECT id, exchange, routing_key, properties, headers, body FROM outbox ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1',
        [this.batchSize],
      );
      if (rows.length) {
        await this.publish(rows.map((row) => ({
          exchange: row.exchange, routingKey: row.routing_key, properties: row.properties, headers: row.headers, body: row.body,
        })));
        await tx.query('DELETE FROM outbox WHERE id = ANY($1)', [rows.map((row) => row.id)]);
      }
      return rows.length;
    });
  }

  /** Stops polling and sends what is left, once (shutdown). */
  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.wake();
  }
}

/** @param {import('pg').Pool} pool @returns {Promise<number>} */
async function pendingCount(pool) {
  const { rows } = await pool.query('SELECT count(*)::int AS pending FROM outbox');
  return rows[0].pending;
}

module.exports = { enqueue, OutboxDispatcher, pendingCount };
