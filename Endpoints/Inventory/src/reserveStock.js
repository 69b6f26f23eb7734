'use strict';

const stock = require('./stock');

/**
 * An order's quantities per SKU (an order may list a SKU twice), in SKU order.
 * @param {{ sku: string, quantity: number }[]} lines
 * @returns {import('./stock').Line[]}
 */
function quantitiesPerSku(lines) {
  /** @type {Map<string, number>} */
  const totals = new Map();
  for (const { sku, quantity } of lines) totals.set(sku, (totals.get(sku) ?? 0) + quantity);
  return [...totals.keys()].sort().map((sku) => ({ sku, quantity: /** @type {number} */ (totals.get(sku)) }));
}

/**
 * OrderPlaced: reserve every line or none. A reservation row of any status means the order was already decided
 * (`Cancelled` is the tombstone of an order cancelled before it was placed here), so nothing happens.
 * @param {{ orderId: string, lines: { sku: string, quantity: number }[] }} order
 * @param {Map<string, number>} levels  sku → available; a SKU Inventory does not stock is absent
 * @param {Date} now
 * @param {import('./stock').Reservation | null} [existing]
 * @returns {import('./stock').Decision}
 */
function decideReservation(order, levels, now, existing = null) {
  if (existing) return stock.nothing(`Order ${order.orderId} is already ${existing.status}; OrderPlaced changes nothing`);
  const lines = quantitiesPerSku(order.lines);
  const short = lines
    .map(({ sku, quantity }) => ({ sku, requested: quantity, available: levels.get(sku) ?? 0 }))
    .filter((line) => line.available < line.requested);

  if (short.length) {
    return {
      reservation: { orderId: order.orderId, status: 'Unavailable', lines },
      stockChanges: [],
      event: { type: 'Conveyor.Messages.StockUnavailable', body: { orderId: order.orderId, short, checkedAt: now.toISOString() } },
      result: 'unavailable',
    };
  }
  return {
    reservation: { orderId: order.orderId, status: 'Reserved', lines },
    stockChanges: lines.map(({ sku, quantity }) => ({ sku, available: -quantity, reserved: quantity, sold: 0 })),
    event: { type: 'Conveyor.Messages.StockReserved', body: { orderId: order.orderId, lines, reservedAt: now.toISOString() } },
    result: 'reserved',
  };
}

/**
 * @param {import('./stock').Transaction} tx
 * @param {{ orderId: string, lines: { sku: string, quantity: number }[] }} order
 * @param {Date} now
 */
async function reserveStock(tx, order, now) {
  await stock.lockOrder(tx, order.orderId);
  const existing = await stock.findReservation(tx, order.orderId);
  // The levels are locked (FOR UPDATE) until commit: concurrent orders for the same SKU queue up here, never oversell.
  const levels = existing ? new Map() : await stock.lockLevels(tx, quantitiesPerSku(order.lines).map((l) => l.sku));
  const decision = decideReservation(order, levels, now, existing);
  await stock.applyDecision(tx, decision, now);
  return decision;
}

module.exports = { quantitiesPerSku, decideReservation, reserveStock };
