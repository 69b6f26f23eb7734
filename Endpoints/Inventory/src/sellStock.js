'use strict';

const stock = require('./stock');

/**
 * OrderConfirmed: the payment went through, so what was reserved is sold. Only a reserved order can be sold; any
 * other state means the messages crossed (or Orders confirmed an order Inventory refused), worth a warning.
 * @param {{ orderId: string }} confirmation
 * @param {import('./stock').Reservation | null} existing
 * @param {Date} _now
 * @returns {import('./stock').Decision}
 */
function decideSale(confirmation, existing, _now) {
  if (existing?.status !== 'Reserved') {
    return stock.nothing(`Order ${confirmation.orderId} confirmed but its stock is ${existing ? existing.status : 'not reserved'}; nothing sold`);
  }
  return {
    reservation: { ...existing, status: 'Sold' },
    stockChanges: existing.lines.map(({ sku, quantity }) => ({ sku, available: 0, reserved: -quantity, sold: quantity })),
    event: null,
    result: 'sold',
  };
}

/** @param {import('./stock').Transaction} tx @param {{ orderId: string }} confirmation @param {Date} now */
async function sellStock(tx, confirmation, now) {
  await stock.lockOrder(tx, confirmation.orderId);
  const decision = decideSale(confirmation, await stock.findReservation(tx, confirmation.orderId), now);
  await stock.applyDecision(tx, decision, now);
  return decision;
}

module.exports = { decideSale, sellStock };
