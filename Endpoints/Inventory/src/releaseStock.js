'use strict';

const stock = require('./stock');

/**
 * OrderCancelled: what the order holds goes back into stock. A reserved order gives back its reservation; a sold one
 * (confirmed, then cancelled by the customer) gives back what was sold. An order not seen yet leaves a `Cancelled`
 * tombstone, so that its late OrderPlaced reserves nothing.
 * @param {{ orderId: string }} cancellation
 * @param {import('./stock').Reservation | null} existing
 * @param {Date} now
 * @returns {import('./stock').Decision}
 */
function decideRelease(cancellation, existing, now) {
  const { orderId } = cancellation;
  if (!existing) {
    return { reservation: { orderId, status: 'Cancelled', lines: [] }, stockChanges: [], event: null, result: null };
  }
  if (existing.status !== 'Reserved' && existing.status !== 'Sold') {
    return stock.nothing(`Order ${orderId} is ${existing.status}; OrderCancelled has nothing to release`);
  }
  const fromSold = existing.status === 'Sold';
  return {
    reservation: { ...existing, status: 'Released' },
    stockChanges: existing.lines.map(({ sku, quantity }) => ({
      sku, available: quantity, reserved: fromSold ? 0 : -quantity, sold: fromSold ? -quantity : 0,
    })),
    event: { type: 'Conveyor.Messages.StockReleased', body: { orderId, lines: existing.lines, releasedAt: now.toISOString() } },
    result: 'released',
  };
}

/** @param {import('./stock').Transaction} tx @param {{ orderId: string }} cancellation @param {Date} now */
const releaseStock = (tx, cancellation, now) => stock.moveReservation(tx, cancellation, now, decideRelease);

module.exports = { decideRelease, releaseStock };
