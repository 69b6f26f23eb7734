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

/** Forgets ids handled more than `days` ago: no redelivery comes that late. @param {import('pg').Pool} pool */
async function purgeInbox(pool, days = 7) {
  const { rowCount } = await pool.query("DELETE FROM inbox WHERE handled_at < now() - make_interval(days => $1)", [days]);
  return rowCount ?? 0;
}

/** @param {import('pg').Pool} pool @param {import('pino').Logger} logger @returns {() => void} stop */
function startInboxPurge(pool, logger, everyMs = 60 * 60 * 1000) {
  const purge = () => purgeInbox(pool)
    .then((count) => count && logger.info(`Purged ${count} inbox row(s) older than 7 days`))
    .catch((error) => logger.warn({ err: error }, 'Could not purge the inbox'));
  const timer = setInterval(purge, everyMs);
  timer.unref();
  purge();
  return () => clearInterval(timer);
}

module.exports = { recordHandled, purgeInbox, startInboxPurge };
