'use strict';

const { decideReservation, quantitiesPerSku } = require('../../src/reserveStock');

const now = new Date('2026-11-27T09:30:00.250Z');
const orderId = '0193a1a0-5a3c-7cc1-9e52-6f1d0b8f0001';
const order = (lines) => ({ orderId, lines: lines.map(([sku, quantity]) => ({ sku, quantity, unitPrice: 1 })) });
const levels = (entries) => new Map(Object.entries(entries));

describe('OrderPlaced reserves the whole order or nothing', () => {
  test('every line in stock: reserved, stock moves from available to reserved', () => {
    const decision = decideReservation(order([['MUG', 2], ['BOOK-DDD', 1]]), levels({ MUG: 5, 'BOOK-DDD': 1 }), now);

    expect(decision.result).toBe('reserved');
    expect(decision.reservation).toEqual({ orderId, status: 'Reserved', lines: [{ sku: 'BOOK-DDD', quantity: 1 }, { sku: 'MUG', quantity: 2 }] });
    expect(decision.stockChanges).toEqual([
      { sku: 'BOOK-DDD', available: -1, reserved: 1, sold: 0 },
      { sku: 'MUG', available: -2, reserved: 2, sold: 0 },
    ]);
    expect(decision.event).toEqual({
      type: 'Conveyor.Messages.StockReserved',
      body: { orderId, lines: [{ sku: 'BOOK-DDD', quantity: 1 }, { sku: 'MUG', quantity: 2 }], reservedAt: '2026-11-27T09:30:00.250Z' },
    });
  });

  test('one line short: nothing is reserved, and only the short line is listed', () => {
    const decision = decideReservation(order([['MUG', 2], ['BOOK-DDD', 3]]), levels({ MUG: 5, 'BOOK-DDD': 2 }), now);

    expect(decision.result).toBe('unavailable');
    expect(decision.stockChanges).toEqual([]);
    expect(decision.reservation.status).toBe('Unavailable');
    expect(decision.event).toEqual({
      type: 'Conveyor.Messages.StockUnavailable',
      body: { orderId, short: [{ sku: 'BOOK-DDD', requested: 3, available: 2 }], checkedAt: '2026-11-27T09:30:00.250Z' },
    });
  });

  test('a SKU Inventory does not stock is short with available 0', () => {
    const decision = decideReservation(order([['POSTER-SIGNED', 1]]), levels({}), now);

    expect(decision.event.body.short).toEqual([{ sku: 'POSTER-SIGNED', requested: 1, available: 0 }]);
  });

  test('a SKU listed twice is reserved for its total', () => {
    expect(quantitiesPerSku([{ sku: 'MUG', quantity: 2 }, { sku: 'BOOK', quantity: 1 }, { sku: 'MUG', quantity: 3 }]))
      .toEqual([{ sku: 'BOOK', quantity: 1 }, { sku: 'MUG', quantity: 5 }]);

    const enough = decideReservation(order([['MUG', 2], ['MUG', 3]]), levels({ MUG: 5 }), now);
    expect(enough.stockChanges).toEqual([{ sku: 'MUG', available: -5, reserved: 5, sold: 0 }]);

    const notEnough = decideReservation(order([['MUG', 2], ['MUG', 3]]), levels({ MUG: 4 }), now);
    expect(notEnough.event.body.short).toEqual([{ sku: 'MUG', requested: 5, available: 4 }]);
  });

  test('exactly the level left is enough, and leaves zero', () => {
    const decision = decideReservation(order([['MUG', 5]]), levels({ MUG: 5 }), now);
    expect(decision.result).toBe('reserved');
  });

  test.each(['Reserved', 'Unavailable', 'Released', 'Sold', 'Cancelled'])(
    'an order already %s is not decided again (redelivery, or cancelled before it was placed)',
    (status) => {
      const decision = decideReservation(order([['MUG', 1]]), levels({ MUG: 5 }), now, { orderId, status, lines: [] });

      expect(decision).toEqual(expect.objectContaining({ reservation: null, stockChanges: [], event: null, result: null }));
      expect(decision.note).toContain(status);
    },
  );
});
