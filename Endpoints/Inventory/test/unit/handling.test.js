'use strict';

const fs = require('node:fs');
const path = require('node:path');
const pino = require('pino');
const { loadConfig } = require('../../src/config');
const { loadSchemas } = require('../../src/contracts');
const { createHandler } = require('../../src/handling');
const { createRecoverability } = require('../../src/recoverability');
const { createMetrics } = require('../../src/metrics');
const useCases = require('../../src/useCases');
const { fakeDatabase } = require('./support/fakeDatabase');

const repository = path.resolve(__dirname, '../../../..');
const baseConfig = loadConfig({ ASPNETCORE_ENVIRONMENT: 'Development', Conveyor__Recoverability__DelayedRetries: '00:00:05,00:00:30' },
  { packageDir: path.resolve(__dirname, '../..'), hostname: 'inventory-1' });
const schemas = loadSchemas(path.join(repository, 'Messages/schemas'), baseConfig.topology.messages.map((m) => m.type));
const orderPlaced = JSON.parse(fs.readFileSync(path.join(repository, 'Messages/samples/current/OrderPlaced.json'), 'utf8'));
const handledTypes = Object.keys(useCases);
const logger = pino({ level: 'silent' });

const delivery = (overrides = {}) => ({
  messageId: '0193a1a0-0000-7000-8000-00000000000a',
  type: 'Conveyor.Messages.OrderPlaced',
  correlationId: orderPlaced.orderId,
  contentType: 'application/json',
  userId: 'orders',
  headers: {
    'conveyor-conversation-id': orderPlaced.orderId, 'conveyor-related-to': 'http-request-1', 'conveyor-message-intent': 'publish',
    'sent-at': '2026-12-02 13:50:11:851695 Z', source: 'orders',
  },
  body: Buffer.from(JSON.stringify(orderPlaced)),
  ...overrides,
});

function endpoint({ db, config = baseConfig, handle = createHandler({ useCases, schemas, config }) }) {
  const metrics = createMetrics();
  const recoverability = createRecoverability({ pool: db.pool, config, schemas, handle, handledTypes, metrics, logger, wakeOutbox: () => {} });
  return { metrics, recoverability };
}

describe('handling a message', () => {
  test('OrderPlaced in stock: stock reserved, StockReserved and its audit copy in the outbox, with the inbox row', async () => {
    const db = fakeDatabase({ stock: { 'BOOK-DDD': 3, 'MUG-CONVEYOR': 10 } });
    const { recoverability, metrics } = endpoint({ db });

    await recoverability.processDelivery(delivery());

    expect(db.stock).toEqual({ 'BOOK-DDD': 2, 'MUG-CONVEYOR': 8 });
    expect(db.reservations[orderPlaced.orderId].status).toBe('Reserved');
    expect(db.inbox.has('0193a1a0-0000-7000-8000-00000000000a')).toBe(true);
    expect(db.outbox.map((m) => `${m.exchange}:${m.properties.type}`)).toEqual(['StockReserved:Conveyor.Messages.StockReserved', 'audit:Conveyor.Hosting.AuditCopy']);

    const [reserved, copy] = db.outbox;
    expect(reserved.headers).toEqual(expect.objectContaining({
      'conveyor-conversation-id': orderPlaced.orderId, 'conveyor-related-to': '0193a1a0-0000-7000-8000-00000000000a', source: 'inventory',
    }));
    expect(copy.body.toString()).toBe(JSON.stringify(orderPlaced));
    expect(copy.properties).toEqual(expect.objectContaining({ contentType: 'application/octet-stream', correlationId: orderPlaced.orderId, userId: 'inventory', deliveryMode: 2 }));
    expect(copy.headers).toEqual(expect.objectContaining({
      'conveyor-message-id': '0193a1a0-0000-7000-8000-00000000000a',
      'conveyor-message-type': 'Conveyor.Messages.OrderPlaced',
      'conveyor-sending-endpoint': 'orders',
      'conveyor-endpoint': 'inventory',
      'conveyor-processing-instance': 'inventory-1',
      'conveyor-queue': 'rabbitmq://queue/inventory',
      'conveyor-time-sent': '2026-12-02T13:50:11.851695Z',
      'conveyor-related-to': 'http-request-1',
      'conveyor-message-intent': 'publish',
    }));
    expect(JSON.parse(copy.headers['conveyor-outgoing'])).toEqual([
      { id: reserved.properties.messageId, type: 'Conveyor.Messages.StockReserved', intent: 'publish', destination: 'rabbitmq://exchange/StockReserved', dueAt: null },
    ]);
    expect(Object.values(copy.headers).every((v) => typeof v === 'string')).toBe(true);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ processed: 1, attempts: 1, retried: 0, movedToError: 0 }));
  });

  test('a redelivery changes nothing and publishes nothing', async () => {
    const db = fakeDatabase({ stock: { 'BOOK-DDD': 3, 'MUG-CONVEYOR': 10 }, handled: ['0193a1a0-0000-7000-8000-00000000000a'] });
    const { recoverability } = endpoint({ db });

    await recoverability.processDelivery(delivery());

    expect(db.stock).toEqual({ 'BOOK-DDD': 3, 'MUG-CONVEYOR': 10 });
    expect(db.outbox).toEqual([]);
  });

  test("a retry ServiceControl sent back is confirmed with RetrySucceeded, in the same transaction", async () => {
    const db = fakeDatabase({ stock: {} });
    const { recoverability } = endpoint({ db });
    const failedMessageId = '0193a1a0-9999-7000-8000-000000000001';

    await recoverability.processDelivery(delivery({ userId: 'servicecontrol', headers: { 'conveyor-retry-of': failedMessageId } }));

    const confirmation = db.outbox.find((m) => m.exchange === 'RetrySucceeded');
    expect(confirmation.properties.type).toBe('Conveyor.Hosting.ServiceControl.RetrySucceeded');
    expect(JSON.parse(confirmation.body.toString())).toEqual({ failedMessageId, endpoint: 'inventory', handledAt: expect.any(String) });
    expect(db.outbox.map((m) => m.exchange)).toEqual(['StockUnavailable', 'RetrySucceeded', 'audit']);
  });

  test('with auditing off, no copy', async () => {
    const db = fakeDatabase({ stock: {} });
    const { recoverability } = endpoint({ db, config: { ...baseConfig, audit: { enabled: false } } });

    await recoverability.processDelivery(delivery());

    expect(db.outbox.map((m) => m.exchange)).toEqual(['StockUnavailable']);
  });
});

describe('when handling fails', () => {
  test('a poison message goes straight to error, with why, and gets no inbox row', async () => {
    const db = fakeDatabase();
    const { recoverability, metrics } = endpoint({ db });

    await recoverability.processDelivery(delivery({ userId: 'payments' }));

    expect(db.inbox.size).toBe(0);
    expect(db.outbox).toHaveLength(1);
    const [failed] = db.outbox;
    expect(failed.exchange).toBe('error');
    expect(failed.properties).toEqual({
      messageId: '0193a1a0-0000-7000-8000-00000000000a', type: 'Conveyor.Messages.OrderPlaced', correlationId: orderPlaced.orderId,
      contentType: 'application/json', deliveryMode: 2, userId: 'inventory',
    });
    expect(failed.headers).toEqual(expect.objectContaining({
      source: 'orders',
      'exception-type': 'Conveyor.Hosting.UntrustedSenderException',
      'exception-message': "OrderPlaced from broker user 'payments' refused: only orders may send it",
      'conveyor-endpoint': 'inventory',
      'conveyor-queue': 'rabbitmq://queue/inventory',
      'conveyor-message-type': 'Conveyor.Messages.OrderPlaced',
      'conveyor-correlation-id': orderPlaced.orderId,
      'conveyor-sending-endpoint': 'payments',
      'conveyor-attempts': '1',
      'conveyor-first-failure-at': expect.any(String),
      'conveyor-last-failure-at': expect.any(String),
    }));
    expect(failed.body.toString()).toBe(JSON.stringify(orderPlaced));
    expect(metrics.snapshot().movedToError).toBe(1);
  });

  test('a transient failure is retried at once, then stored for a delayed retry', async () => {
    const db = fakeDatabase();
    let calls = 0;
    const { recoverability, metrics } = endpoint({ db, handle: async () => { calls += 1; throw new Error('connection reset'); } });

    await recoverability.processDelivery(delivery());

    expect(calls).toBe(3);
    expect(db.delayed).toEqual([expect.objectContaining({ message_id: '0193a1a0-0000-7000-8000-00000000000a', attempts: 3 })]);
    expect(db.outbox).toEqual([]);
    expect(metrics.snapshot()).toEqual(expect.objectContaining({ attempts: 3, retried: 3, movedToError: 0 }));
  });

  test('after the last delayed retry it goes to error, and its row is deleted in the same transaction', async () => {
    const db = fakeDatabase();
    const { recoverability, metrics } = endpoint({ db, handle: async () => { throw new TypeError('still broken'); } });
    const d = delivery();
    db.delayed.push({
      id: 7, message_id: d.messageId, attempts: 6, delayed_rounds: 1, first_failure_at: new Date('2026-12-02T13:00:00Z'),
      properties: { messageId: d.messageId, type: d.type, correlationId: d.correlationId, contentType: d.contentType, userId: d.userId },
      headers: d.headers, body: d.body,
    });

    expect(await recoverability.processOneDueRetry()).toBe(true);

    expect(db.delayed).toEqual([]);
    expect(db.outbox.map((m) => m.exchange)).toEqual(['error']);
    expect(db.outbox[0].headers).toEqual(expect.objectContaining({
      'exception-type': 'TypeError', 'exception-message': 'still broken', 'conveyor-attempts': '9', 'conveyor-first-failure-at': '2026-12-02T13:00:00.000Z',
    }));
    expect(db.statements.filter((s) => s === 'COMMIT')).toHaveLength(1);
    expect(metrics.snapshot().movedToError).toBe(1);
  });

  test('a delayed retry that succeeds deletes its row with its effects', async () => {
    const db = fakeDatabase({ stock: { 'BOOK-DDD': 3, 'MUG-CONVEYOR': 10 } });
    const { recoverability } = endpoint({ db });
    const d = delivery();
    db.delayed.push({
      id: 8, message_id: d.messageId, attempts: 3, delayed_rounds: 0, first_failure_at: new Date(),
      properties: { messageId: d.messageId, type: d.type, correlationId: d.correlationId, contentType: d.contentType, userId: d.userId },
      headers: d.headers, body: d.body,
    });

    await recoverability.processOneDueRetry();

    expect(db.delayed).toEqual([]);
    expect(db.stock).toEqual({ 'BOOK-DDD': 2, 'MUG-CONVEYOR': 8 });
    expect(db.outbox.map((m) => m.exchange)).toEqual(['StockReserved', 'audit']);
  });
});
