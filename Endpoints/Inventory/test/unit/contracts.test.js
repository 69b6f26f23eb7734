'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { loadSchemas, checkSender, decodeDelivery, PoisonMessageError } = require('../../src/contracts');
const { loadTopology } = require('../../src/config');
const { decideReservation } = require('../../src/reserveStock');
const { decideRelease } = require('../../src/releaseStock');

const repository = path.resolve(__dirname, '../../../..');
const topology = loadTopology(path.join(repository, 'deploy/topology.json'));
const samplesDirectory = path.join(repository, 'Messages/samples/current');
const allTypes = topology.messages.map((m) => m.type);
const schemas = loadSchemas(path.join(repository, 'Messages/schemas'), allTypes);
const sample = (name) => JSON.parse(fs.readFileSync(path.join(samplesDirectory, `${name}.json`), 'utf8'));

describe('the message contracts', () => {
  test.each(fs.readdirSync(samplesDirectory).filter((f) => f.endsWith('.json')))('the sample %s validates against its schema', (file) => {
    const type = `Conveyor.Messages.${path.basename(file, '.json')}`;
    expect(schemas.validate(type, sample(path.basename(file, '.json')))).toEqual({ valid: true });
  });

  test('a message missing a required field is refused, saying which', () => {
    const { placedAt, ...withoutPlacedAt } = sample('OrderPlaced');
    const result = schemas.validate('Conveyor.Messages.OrderPlaced', withoutPlacedAt);

    expect(result).toEqual({ valid: false, reason: "OrderPlaced must have required property 'placedAt'" });
  });

  test('a field of the wrong type is refused, saying where', () => {
    const order = sample('OrderPlaced');
    order.lines[1].quantity = '2';
    const result = schemas.validate('Conveyor.Messages.OrderPlaced', order);

    expect(result).toEqual({ valid: false, reason: 'OrderPlaced/lines/1/quantity must be integer' });
  });

  test('unknown properties are allowed (a newer sender during a rolling deploy)', () => {
    expect(schemas.validate('Conveyor.Messages.OrderConfirmed', { ...sample('OrderConfirmed'), loyaltyPoints: 12 })).toEqual({ valid: true });
  });

  test('the events the decisions produce validate against their schemas', () => {
    const now = new Date();
    const order = sample('OrderPlaced');
    const events = [
      decideReservation(order, new Map([['BOOK-DDD', 5], ['MUG-CONVEYOR', 5]]), now).event,
      decideReservation(order, new Map(), now).event,
      decideRelease(sample('OrderCancelled'), { orderId: order.orderId, status: 'Reserved', lines: [{ sku: 'MUG', quantity: 2 }] }, now).event,
    ];
    expect(events.map((e) => e.type)).toEqual(['Conveyor.Messages.StockReserved', 'Conveyor.Messages.StockUnavailable', 'Conveyor.Messages.StockReleased']);
    for (const event of events) expect(schemas.validate(event.type, event.body)).toEqual({ valid: true });
  });
});

describe('who may send a message', () => {
  const type = 'Conveyor.Messages.OrderPlaced';

  test('Orders may send OrderPlaced', () => {
    expect(checkSender(topology, type, 'orders', {})).toEqual({ trusted: true });
  });

  test('Payments may not, and the reason says who may', () => {
    expect(checkSender(topology, type, 'payments', {})).toEqual({
      trusted: false, reason: "OrderPlaced from broker user 'payments' refused: only orders may send it",
    });
  });

  test('a message without user_id is refused', () => {
    expect(checkSender(topology, type, undefined, {}).trusted).toBe(false);
  });

  test('ServiceControl may put back a failed message, and only that', () => {
    expect(checkSender(topology, type, 'servicecontrol', { 'conveyor-retry-of': '0193a1a0-0000-7000-8000-000000000001' })).toEqual({ trusted: true });
    expect(checkSender(topology, type, 'servicecontrol', { 'conveyor-edited-from': '0193a1a0-0000-7000-8000-000000000001' })).toEqual({ trusted: true });
    expect(checkSender(topology, type, 'servicecontrol', {}).trusted).toBe(false);
  });
});

describe('decoding a delivery', () => {
  const contracts = { topology, schemas, handledTypes: ['Conveyor.Messages.OrderPlaced', 'Conveyor.Messages.OrderCancelled', 'Conveyor.Messages.OrderConfirmed'] };
  const delivery = (overrides) => ({
    messageId: '0193a1a0-0000-7000-8000-00000000000a', type: 'Conveyor.Messages.OrderPlaced', correlationId: sample('OrderPlaced').orderId,
    contentType: 'application/json', userId: 'orders', headers: {}, body: Buffer.from(JSON.stringify(sample('OrderPlaced'))), ...overrides,
  });
  const poison = (d) => {
    try {
      decodeDelivery(d, contracts);
    } catch (error) {
      expect(error).toBeInstanceOf(PoisonMessageError);
      return { type: error.exceptionType, message: error.message };
    }
    throw new Error('not refused');
  };

  test('a valid OrderPlaced from Orders is its body', () => {
    expect(decodeDelivery(delivery({}), contracts)).toEqual(sample('OrderPlaced'));
  });

  test('an unknown type, an untrusted sender, a body that is not JSON, a body off its schema are poison', () => {
    expect(poison(delivery({ type: 'Conveyor.Messages.PaymentAuthorized' })).type).toBe('Inventory.UnknownMessageTypeError');
    expect(poison(delivery({ userId: 'payments' })).type).toBe('Conveyor.Hosting.UntrustedSenderException');
    expect(poison(delivery({ body: Buffer.from('{"orderId":') })).type).toBe('Inventory.MessageDeserializationError');
    expect(poison(delivery({ body: Buffer.from('{"orderId":"not-a-uuid"}') }))).toEqual(expect.objectContaining({ type: 'Inventory.MessageValidationError' }));
  });
});
