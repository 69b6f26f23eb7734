'use strict';

const { decideRelease } = require('../../src/releaseStock');

const now = new Date('2026-11-27T09:31:00.000Z');
const orderId = '0193a1a0-5a3c-7cc1-9e52-6f1d0b8f0001';
const cancellation = { orderId, reason: 'CustomerRequested', paymentId: null, cancelledAt: '2026-11-27T09:31:00+00:00' };
const lines = [{ sku: 'BOOK-DDD', quantity: 1 }, { sku: 'MUG', quantity: 2 }];

describe('OrderCancelled gives the stock back', () => {
  test('a reserved order: its reservation goes back to available, StockReleased', () => {
    const decision = decideRelease(cancellation, { orderId, status: 'Reserved', lines }, now);

    expect(decision.result).toBe('released');
    expect(decision.reservation).toEqual({ orderId, status: 'Released', lines });
    expect(decision.stockChanges).toEqual([
      { sku: 'BOOK-DDD', available: 1, reserved: -1, sold: 0 },
      { sku: 'MUG', available: 2, reserved: -2, sold: 0 },
    ]);
    expect(decision.event).toEqual({ type: 'Conveyor.Messages.StockReleased', body: { orderId, lines, releasedAt: '2026-11-27T09:31:00.000Z' } });
  });

  test('a sold order (confirmed, then cancelled by the customer): what was sold goes back to available', () => {
    const decision = decideRelease(cancellation, { orderId, status: 'Sold', lines }, now);

    expect(decision.reservation.status).toBe('Released');
    expect(decision.stockChanges).toEqual([
      { sku: 'BOOK-DDD', available: 1, reserved: 0, sold: -1 },
      { sku: 'MUG', available: 2, reserved: 0, sold: -2 },
    ]);
    expect(decision.event.type).toBe('Conveyor.Messages.StockReleased');
  });

  test('an order not seen yet leaves a Cancelled tombstone and publishes nothing', () => {
    const decision = decideRelease(cancellation, null, now);

    expect(decision).toEqual({ reservation: { orderId, status: 'Cancelled', lines: [] }, stockChanges: [], event: null, result: null });
  });

  test.each(['Unavailable', 'Released', 'Cancelled'])('an order %s has nothing to release', (status) => {
    const decision = decideRelease(cancellation, { orderId, status, lines }, now);

    expect(decision).toEqual(expect.objectContaining({ reservation: null, stockChanges: [], event: null }));
  });
});
