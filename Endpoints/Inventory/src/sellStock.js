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
const sellStock = (tx, confirmation, now) => stock.moveReservation(tx, confirmation, now, decideSale);

module.exports = { decideSale, sellStock };
