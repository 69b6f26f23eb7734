'use strict';

const { decideSale } = require('../../src/sellStock');

const now = new Date('2026-11-27T09:30:01.400Z');
const orderId = '0193a1a0-5a3c-7cc1-9e52-6f1d0b8f0001';
const confirmation = { orderId, paymentId: '0193a1a0-6b00-7aa0-8000-2a9d1c3e0002', confirmedAt: '2026-11-27T09:30:01.400+00:00' };
const lines = [{ sku: 'MUG', quantity: 2 }];

describe('OrderConfirmed sells what was reserved', () => {
  test('a reserved order: reserved becomes sold, nothing published', () => {
    const decision = decideSale(confirmation, { orderId, status: 'Reserved', lines }, now);

    expect(decision).toEqual({
      reservation: { orderId, status: 'Sold', lines },
      stockChanges: [{ sku: 'MUG', available: 0, reserved: -2, sold: 2 }],
      event: null,
      result: 'sold',
    });
  });

  test.each(['Unavailable', 'Released', 'Sold', 'Cancelled'])('an order %s is not sold (a warning, no change)', (status) => {
    const decision = decideSale(confirmation, { orderId, status, lines }, now);

    expect(decision).toEqual(expect.objectContaining({ reservation: null, stockChanges: [], event: null, result: null }));
    expect(decision.note).toMatch(status);
  });

  test('an order never reserved is not sold', () => {
    expect(decideSale(confirmation, null, now).note).toMatch('not reserved');
  });
});
