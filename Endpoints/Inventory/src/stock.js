'use strict';

/**
 * The stock levels and the reservations, as the use cases read and change them. Every function takes the
 * handling transaction's client: what a use case decides commits with its inbox row and its outbox messages.
 *
 * @typedef {{ sku: string, quantity: number }} Line
 * @typedef {'Reserved' | 'Unavailable' | 'Released' | 'Sold' | 'Cancelled'} ReservationStatus
 * @typedef {{ orderId: string, status: ReservationStatus, lines: Line[] }} Reservation
 * @typedef {{ sku: string, available: number, reserved: number, sold: number }} StockChange  deltas, not levels
 * @typedef {{ type: string, body: object }} Event
 * @typedef {object} Decision  What a message causes: the reservation's new state, the stock moved, the event published.
 * @property {Reservation | null} reservation  null: the reservation stays as it is
 * @property {StockChange[]} stockChanges
 * @property {Event | null} event
 * @property {'reserved' | 'unavailable' | 'released' | 'sold' | null} result  for the reservations metric
 * @property {string} [note]  why nothing happened, when that deserves a log line
 * @typedef {Pick<import('pg').PoolClient, 'query'>} Transaction
 */

/** A decision that changes nothing. @param {string} [note] @returns {Decision} */
const nothing = (note) => ({ reservation: null, stockChanges: [], event: null, result: null, note });

/**
 * Handling of one order is serialised (a transaction-scoped advisory lock on its id): an OrderCancelled racing its
 * OrderPlaced must see the other's reservation row, not both insert one.
 * @param {Transaction} tx @param {string} orderId
 */
async function lockOrder(tx, orderId) {
  // The two-key form: a key space of its own, apart from the migrations' single-key lock.
  await tx.query('SELECT pg_advisory_xact_lock(1, hashtext($1))', [orderId]);
}

/** @param {Transaction} tx @param {string} orderId @returns {Promise<Reservation | null>} */
async function findReservation(tx, orderId) {
  const { rows } = await tx.query('SELECT order_id, status, lines FROM reservations WHERE order_id = $1', [orderId]);
  return rows.length ? { orderId: rows[0].order_id, status: rows[0].status, lines: rows[0].lines } : null;
}

/**
 * The levels of the SKUs an order wants, locked in SKU order so that two orders never wait on each other in a cycle.
 * @param {Transaction} tx @param {string[]} skus @returns {Promise<Map<string, number>>} sku → available
 */
async function lockLevels(tx, skus) {
  const { rows } = await tx.query('SELECT sku, available FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE', [skus]);
  return new Map(rows.map((row) => [row.sku, row.available]));
}

/**
 * Applies the deltas one SKU at a time, in SKU order — the order lockLevels locks in — so that two transactions never
 * wait on each other's rows in a cycle (one UPDATE joining all SKUs locks them in whatever order its plan reads them,
 * which deadlocked a confirmation against a reservation under load). The CHECK constraints refuse any level below zero.
 * @param {Transaction} tx @param {StockChange[]} changes
 */
async function applyStockChanges(tx, changes) {
  const sorted = [...changes].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  for (const change of sorted) {
    await tx.query(
      'UPDATE stock SET available = available + $2, reserved = reserved + $3, sold = sold + $4 WHERE sku = $1',
      [change.sku, change.available, change.reserved, change.sold],
    );
  }
}

/** @param {Transaction} tx @param {Reservation} reservation @param {Date} now */
async function saveReservation(tx, reservation, now) {
  await tx.query(
    `INSERT INTO reservations (order_id, status, lines, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, lines = excluded.lines, updated_at = excluded.updated_at`,
    [reservation.orderId, reservation.status, JSON.stringify(reservation.lines), now],
  );
}

/** @param {Transaction} tx @param {Decision} decision @param {Date} now */
async function applyDecision(tx, decision, now) {
  await applyStockChanges(tx, decision.stockChanges);
  if (decision.reservation) await saveReservation(tx, decision.reservation, now);
}

/**
 * A use case that moves an order's existing reservation on (release, sale): the order locked, the decision taken from
 * its reservation, then applied.
 * @param {Transaction} tx @param {{ orderId: string }} message @param {Date} now
 * @param {(message: { orderId: string }, existing: Reservation | null, now: Date) => Decision} decide
 */
async function moveReservation(tx, message, now, decide) {
  await lockOrder(tx, message.orderId);
  const decision = decide(message, await findReservation(tx, message.orderId), now);
  await applyDecision(tx, decision, now);
  return decision;
}

module.exports = { nothing, lockOrder, findReservation, lockLevels, applyStockChanges, saveReservation, applyDecision, moveReservation };
