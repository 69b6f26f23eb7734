'use strict';

/**
 * Records that a message is being handled, in the handling transaction. A second delivery of the same message id
 * (the broker redelivers after a lost ack; the outbox re-sends after a crash) finds the row and changes nothing.
 * A concurrent duplicate waits on the primary key until the first commits, then finds it.
 * @param {import('./stock').Transaction} tx @param {string} messageId
 * @returns {Promise<boolean>} false: handled before
 */
async function recordHandled(tx, messageId) {
  const { rowCount } = await tx.query('INSERT INTO inbox (message_id) VALUES ($1) ON CONFLICT (message_id) DO NOTHING', [messageId]);
  return rowCount === 1;
}

/**
 * How long a handled id is kept: as long as Wolverine keeps the .NET endpoints' handled envelopes. Duplicates come
 * within seconds (a redelivery after a lost ack, an outbox re-sent after a crash); one later still changes nothing,
 * because every use case is idempotent on the order's reservation too.
 */
const RETENTION_MINUTES = 5;

/** Forgets ids handled more than `minutes` ago. @param {import('pg').Pool} pool */
async function purgeInbox(pool, minutes = RETENTION_MINUTES) {
  const { rowCount } = await pool.query('DELETE FROM inbox WHERE handled_at < now() - make_interval(mins => $1)', [minutes]);
  return rowCount ?? 0;
}

/** @param {import('pg').Pool} pool @param {import('pino').Logger} logger @returns {() => void} stop */
function startInboxPurge(pool, logger, everyMs = 30 * 1000) {
  const purge = () => purgeInbox(pool)
    .then((count) => count && logger.debug(`Purged ${count} inbox row(s) older than ${RETENTION_MINUTES} minutes`))
    .catch((error) => logger.warn({ err: error }, 'Could not purge the inbox'));
  const timer = setInterval(purge, everyMs);
  timer.unref();
  purge();
  return () => clearInterval(timer);
}

module.exports = { recordHandled, purgeInbox, startInboxPurge };
