'use strict';

// The real Inventory process on the real broker and database: what it publishes for what it receives, exactly once,
// from whom it accepts it, and what it tells the platform (error, audit, heartbeats) — observed from outside, as
// another endpoint or the operator would.
const { startInventory, connectAs, database, eventually, header, randomUUID } = require('./support/system');

jest.setTimeout(60_000);

const SKU = 'BOOK-EIP';
let inventory;
let orders;
let operator;
let db;

beforeAll(async () => {
  operator = await connectAs('operator', ['StockReserved', 'StockUnavailable', 'StockReleased', 'error', 'audit', 'EndpointHeartbeat']);
  // What an earlier run left in Inventory's queue is not this run's.
  await operator.channel.purgeQueue('inventory').catch(() => {});
  inventory = await startInventory();
  orders = await connectAs('orders');
  db = database();
});

afterAll(async () => {
  await orders?.close();
  await operator?.close();
  await db?.end();
  await inventory?.stop();
});

const available = async (sku) => (await db.query('select available from stock where sku = $1', [sku])).rows[0]?.available;

function orderPlaced(lines, orderId = randomUUID()) {
  return {
    orderId,
    customerId: 'customer-42',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    lines: lines.map(([sku, quantity]) => ({ sku, quantity, unitPrice: 54.9 })),
    total: 54.9 * lines.reduce((sum, [, quantity]) => sum + quantity, 0),
    paymentToken: 'tok_ok',
    placedAt: new Date().toISOString(),
  };
}

/** OrderPlaced as Orders publishes it: its type, correlation and conversation, and a trace context. */
const asOrders = (message, extra = {}) => ({
  type: 'Conveyor.Messages.OrderPlaced',
  correlationId: message.orderId,
  headers: {
    'conveyor-conversation-id': message.orderId,
    'conveyor-related-to': randomUUID(),
    'conveyor-message-intent': 'publish',
    'parent-id': '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    'sent-at': '2026-12-02 13:50:11:851695 Z',
  },
  ...extra,
});

const about = (type, orderId) => (m) => m.properties.type === `Conveyor.Messages.${type}` && m.properties.correlationId === orderId;

test('an order whose every line is in stock is reserved whole, once, and StockReserved is published as Inventory', async () => {
  const before = await available(SKU);
  const placed = orderPlaced([[SKU, 2], [SKU, 1]]);

  await orders.publish('OrderPlaced', placed, asOrders(placed));
  const reserved = await operator.next(about('StockReserved', placed.orderId), 'StockReserved');

  const body = JSON.parse(reserved.content.toString());
  expect(body).toMatchObject({ orderId: placed.orderId, lines: [{ sku: SKU, quantity: 3 }] });
  expect(reserved.properties.userId).toBe('inventory');
  expect(header(reserved, 'conveyor-conversation-id')).toBe(placed.orderId);
  // The order's one trace: Inventory's span is a child of the incoming one, and the next hop's parent.
  expect(header(reserved, 'parent-id')).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  expect(await available(SKU)).toBe(before - 3);
});

test('the same OrderPlaced delivered twice reserves once and answers once', async () => {
  const before = await available(SKU);
  const placed = orderPlaced([[SKU, 1]]);
  const properties = asOrders(placed, { messageId: randomUUID() });

  await orders.publish('OrderPlaced', placed, properties);
  await orders.publish('OrderPlaced', placed, properties);
  await operator.next(about('StockReserved', placed.orderId), 'StockReserved');
  // The second delivery is handled (its audit copy says so) and changes nothing.
  await eventually(async () => (await db.query('select count(*)::int as n from inbox where message_id = $1', [properties.messageId])).rows[0].n === 1, 'the inbox row');
  await eventually(async () => inventory.output.some((line) => line.includes(`${properties.messageId} was handled before`)), 'the duplicate to be seen');

  expect(operator.received.filter(about('StockReserved', placed.orderId))).toHaveLength(1);
  expect(await available(SKU)).toBe(before - 1);
});

test('an order with a line short reserves nothing and says which', async () => {
  const before = await available(SKU);
  const placed = orderPlaced([[SKU, 1], ['NO-SUCH-SKU', 2]]);

  await orders.publish('OrderPlaced', placed, asOrders(placed));
  const unavailable = await operator.next(about('StockUnavailable', placed.orderId), 'StockUnavailable');

  expect(JSON.parse(unavailable.content.toString()).short).toEqual([{ sku: 'NO-SUCH-SKU', requested: 2, available: 0 }]);
  expect(await available(SKU)).toBe(before);
});

test('a cancelled order\'s reservation goes back on the shelf', async () => {
  const before = await available(SKU);
  const placed = orderPlaced([[SKU, 4]]);
  await orders.publish('OrderPlaced', placed, asOrders(placed));
  await operator.next(about('StockReserved', placed.orderId), 'StockReserved');

  const cancelled = { orderId: placed.orderId, reason: 'CustomerRequested', paymentId: null, cancelledAt: new Date().toISOString() };
  await orders.publish('OrderCancelled', cancelled, { type: 'Conveyor.Messages.OrderCancelled', correlationId: placed.orderId });
  const released = await operator.next(about('StockReleased', placed.orderId), 'StockReleased');

  expect(JSON.parse(released.content.toString()).lines).toEqual([{ sku: SKU, quantity: 4 }]);
  expect(await available(SKU)).toBe(before);
});

test('an OrderPlaced not published by Orders changes nothing and goes to error with the reason, untried', async () => {
  const before = await available(SKU);
  const forged = orderPlaced([[SKU, 1]]);

  // The operator's user may write every exchange (as a leaked admin password would); the broker vouches for who it is.
  await operator.publish('OrderPlaced', forged, asOrders(forged));
  const failed = await operator.next((m) => m.fields.exchange === 'error' && m.properties.correlationId === forged.orderId, 'the forgery in error');

  expect(header(failed, 'exception-type')).toBe('Conveyor.Hosting.UntrustedSenderException');
  expect(header(failed, 'conveyor-attempts')).toBe('1');
  expect(header(failed, 'conveyor-queue')).toBe('rabbitmq://queue/inventory');
  expect(failed.content.toString()).toBe(JSON.stringify(forged));
  expect(operator.received.filter(about('StockReserved', forged.orderId))).toHaveLength(0);
  expect(await available(SKU)).toBe(before);
});

test('an OrderPlaced that breaks its schema goes to error at once, saying what is wrong', async () => {
  const broken = { ...orderPlaced([[SKU, 1]]), lines: [] };

  await orders.publish('OrderPlaced', broken, asOrders(broken));
  const failed = await operator.next((m) => m.fields.exchange === 'error' && m.properties.correlationId === broken.orderId, 'the broken message in error');

  expect(header(failed, 'exception-type')).toBe('Inventory.MessageValidationError');
  expect(header(failed, 'exception-message')).toMatch(/lines/);
  expect(header(failed, 'conveyor-message-type')).toBe('Conveyor.Messages.OrderPlaced');
});

test('every handled message is copied to audit with what it caused', async () => {
  const placed = orderPlaced([[SKU, 1]]);
  const properties = asOrders(placed, { messageId: randomUUID() });

  await orders.publish('OrderPlaced', placed, properties);
  const copy = await operator.next((m) => m.fields.exchange === 'audit' && header(m, 'conveyor-message-id') === properties.messageId, 'the audit copy');
  const reserved = await operator.next(about('StockReserved', placed.orderId), 'StockReserved');

  expect(copy.content.toString()).toBe(JSON.stringify(placed));
  expect(header(copy, 'conveyor-sending-endpoint')).toBe('orders');
  expect(header(copy, 'conveyor-endpoint')).toBe('inventory');
  expect(header(copy, 'conveyor-time-sent')).toBe('2026-12-02T13:50:11.851695Z');
  expect(JSON.parse(header(copy, 'conveyor-outgoing'))).toEqual([
    expect.objectContaining({ id: reserved.properties.messageId, type: 'Conveyor.Messages.StockReserved', intent: 'publish' }),
  ]);
});

test('its database connections ended under it (a PostgreSQL restart) cost it nothing but a retry', async () => {
  // What a restart does to every session: "terminating connection due to administrator command".
  const ended = await db.query("select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = 'inventory'");
  const placed = orderPlaced([[SKU, 1]]);

  await orders.publish('OrderPlaced', placed, asOrders(placed));
  await operator.next(about('StockReserved', placed.orderId), 'StockReserved after the connections were ended');

  expect(ended.rows[0].n).toBeGreaterThan(0);
  expect(inventory.output.some((line) => line.includes('"log.level":"fatal"'))).toBe(false);
  expect((await fetch(`${inventory.url}/health/ready`)).status).toBe(200);
});

test('it sends heartbeats to ServiceControl with its checks', async () => {
  const heartbeat = await operator.next((m) => m.fields.exchange === 'EndpointHeartbeat' && m.properties.userId === 'inventory', 'a heartbeat');

  const body = JSON.parse(heartbeat.content.toString());
  expect(heartbeat.properties.type).toBe('Conveyor.Hosting.ServiceControl.EndpointHeartbeat');
  expect(body).toMatchObject({ endpoint: 'inventory', interval: '00:00:01' });
  expect(body.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'database', passed: true }), expect.objectContaining({ name: 'broker', passed: true })]));
});

test('SIGTERM stops it cleanly', async () => {
  const { code } = await inventory.stop();

  expect(code).toBe(0);
  expect(inventory.output.some((line) => line.includes('"message":"Stopped"'))).toBe(true);
  inventory = null;
});
