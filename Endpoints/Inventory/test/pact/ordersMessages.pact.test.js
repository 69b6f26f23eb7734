'use strict';

// Inventory as the consumer of Orders' events: what it needs of each, written as Pact message contracts. Each test
// hands the example message through Inventory's own schema check and decision, so the contract is what Inventory
// really reads; Integration.Tests (Contracts/OrdersKeepsInventorysPacts) verifies the pact file against the messages
// the running Orders publishes.
// Pact reports usage to its makers unless told not to; nothing of this project's goes out.
process.env.PACT_DO_NOT_TRACK ??= 'true';
const path = require('node:path');
const { PactV4, MatchersV3 } = require('@pact-foundation/pact');
const { loadSchemas } = require('../../src/contracts');
const { decideReservation } = require('../../src/reserveStock');
const { decideRelease } = require('../../src/releaseStock');
const { decideSale } = require('../../src/sellStock');

const { like, eachLike, integer, uuid, regex } = MatchersV3;

const PACT_DIRECTORY = process.env.CONVEYOR_PACT_DIRECTORY || path.resolve(__dirname, '../../../../.artifacts/pacts');
const SCHEMAS = path.resolve(__dirname, '../../../../Messages/schemas');
const ISO_8601 = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';
const timestamp = (example) => regex(ISO_8601, example);

const schemas = loadSchemas(SCHEMAS, ['Conveyor.Messages.OrderPlaced', 'Conveyor.Messages.OrderCancelled', 'Conveyor.Messages.OrderConfirmed']);
const pact = new PactV4({ consumer: 'inventory', provider: 'orders', dir: PACT_DIRECTORY, logLevel: 'warn' });

/** What the broker's message carries beside its body: the type Inventory dispatches on, and JSON. */
const metadataOf = (type) => ({ type: `Conveyor.Messages.${type}`, contentType: 'application/json' });

/** Inventory's first step with any message: the schema check (a message failing it would go to error). */
function checked(type, body) {
  const result = schemas.validate(`Conveyor.Messages.${type}`, body);
  if (!result.valid) throw new Error(`${type} does not match its schema: ${result.reason}`);
  return body;
}

const orderId = '0193a1a0-5a3c-7cc1-9e52-6f1d0b8f0001';
const now = new Date('2026-12-02T10:00:00Z');

describe('Inventory consumes Orders\' events', () => {
  test('an OrderPlaced names the order and every line\'s SKU and quantity', () =>
    pact.addAsynchronousInteraction()
      .given('an order was placed')
      .expectsToReceive('an OrderPlaced', (message) => message
        .withMetadata(metadataOf('OrderPlaced'))
        .withJSONContent({
          orderId: uuid(orderId),
          customerId: like('6c2f1b0e-0d5a-4d8e-9b51-2a1f7c9e0a11'),
          customerEmail: like('alice@example.com'),
          currency: regex('^[A-Z]{3}$', 'EUR'),
          lines: eachLike({ sku: like('BOOK-DDD'), quantity: integer(1), unitPrice: like(42.5) }),
          total: like(62.4),
          paymentToken: like('tok_ok'),
          placedAt: timestamp('2026-12-02T10:00:00.1234567+00:00'),
        }))
      .executeTest(async ({ contents }) => {
        const placed = checked('OrderPlaced', contents.content);
        const decision = decideReservation(placed, new Map([[placed.lines[0].sku, 10]]), now);
        expect(decision.event.type).toBe('Conveyor.Messages.StockReserved');
        expect(decision.event.body.lines).toEqual([{ sku: placed.lines[0].sku, quantity: placed.lines[0].quantity }]);
      }));

  test('an OrderCancelled names the order whose reservation goes back', () =>
    pact.addAsynchronousInteraction()
      .given('a confirmed order was cancelled by its customer')
      .expectsToReceive('an OrderCancelled', (message) => message
        .withMetadata(metadataOf('OrderCancelled'))
        .withJSONContent({
          orderId: uuid(orderId),
          reason: regex('^(PaymentDeclined|PaymentTimedOut|CustomerRequested|OutOfStock)$', 'CustomerRequested'),
          cancelledAt: timestamp('2026-12-02T10:01:00.5+00:00'),
        }))
      .executeTest(async ({ contents }) => {
        const cancelled = checked('OrderCancelled', contents.content);
        const decision = decideRelease(cancelled, { orderId: cancelled.orderId, status: 'Sold', lines: [{ sku: 'BOOK-DDD', quantity: 1 }] }, now);
        expect(decision.event.type).toBe('Conveyor.Messages.StockReleased');
        expect(decision.event.body.orderId).toBe(cancelled.orderId);
      }));

  test('an OrderConfirmed names the order whose reservation becomes a sale', () =>
    pact.addAsynchronousInteraction()
      .given('an order was confirmed')
      .expectsToReceive('an OrderConfirmed', (message) => message
        .withMetadata(metadataOf('OrderConfirmed'))
        .withJSONContent({
          orderId: uuid(orderId),
          paymentId: uuid('0193a1a0-6b00-7aa0-8000-2a9d1c3e0002'),
          confirmedAt: timestamp('2026-12-02T10:00:01+00:00'),
        }))
      .executeTest(async ({ contents }) => {
        const confirmed = checked('OrderConfirmed', contents.content);
        const decision = decideSale(confirmed, { orderId: confirmed.orderId, status: 'Reserved', lines: [{ sku: 'BOOK-DDD', quantity: 1 }] }, now);
        expect(decision.reservation.status).toBe('Sold');
      }));
});
