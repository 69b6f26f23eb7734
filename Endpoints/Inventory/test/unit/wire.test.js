'use strict';

const { context, trace, ROOT_CONTEXT, TraceFlags } = require('@opentelemetry/api');
const { parseWolverineTime, formatWolverineTime, toWireMessage, headersAsStrings, uuidv7 } = require('../../src/contracts');
const { parseTimeSpan, formatTimeSpan, parseNpgsqlConnectionString } = require('../../src/config');
const { originalHeaders } = require('../../src/auditing');
const { extractParent, traceparentOf } = require('../../src/telemetry');

describe("Wolverine's sent-at", () => {
  test('parses to ISO 8601 with its microseconds', () => {
    expect(parseWolverineTime('2026-12-02 13:50:11:851695 Z')).toBe('2026-12-02T13:50:11.851695Z');
  });

  test('absent or unparsable is null', () => {
    expect(parseWolverineTime(undefined)).toBeNull();
    expect(parseWolverineTime('2026-12-02T13:50:11Z')).toBeNull();
    expect(parseWolverineTime('2026-13-45 13:50:11:851695 Z')).toBeNull();
  });

  test('formats in UTC and round-trips', () => {
    const text = formatWolverineTime(new Date('2026-12-02T13:50:11.851Z'));
    expect(text).toBe('2026-12-02 13:50:11:851000 Z');
    expect(parseWolverineTime(text)).toBe('2026-12-02T13:50:11.851000Z');
  });
});

describe('.NET TimeSpan', () => {
  test.each([
    ['00:00:10', 10_000], ['00:00:01', 1000], ['00:00:00.500', 500], ['00:00:00.5000000', 500], ['00:02:00', 120_000], ['1.02:03:04', 93_784_000],
  ])('%s is %d ms', (text, ms) => expect(parseTimeSpan(text)).toBe(ms));

  test('a malformed one is refused', () => {
    expect(() => parseTimeSpan('10s')).toThrow(/not a TimeSpan/);
    expect(() => parseTimeSpan('00:61:00')).toThrow(/not a TimeSpan/);
  });

  test('formats as System.Text.Json writes it', () => {
    expect(formatTimeSpan(10_000)).toBe('00:00:10');
    expect(formatTimeSpan(500)).toBe('00:00:00.5000000');
    expect(formatTimeSpan(93_784_000)).toBe('1.02:03:04');
  });
});

describe('Npgsql connection strings', () => {
  test('become a pg pool configuration, keys in any case', () => {
    expect(parseNpgsqlConnectionString('Host=postgres;Port=5433;Database=inventory;Username=inventory;Password=s3cr=t;Maximum Pool Size=20')).toEqual({
      host: 'postgres', port: 5433, database: 'inventory', user: 'inventory', password: 's3cr=t', max: 20,
    });
    expect(parseNpgsqlConnectionString('host=db; DATABASE=inventory; user id=inventory; PASSWORD=x;')).toEqual({
      host: 'db', port: 5432, database: 'inventory', user: 'inventory', password: 'x', max: 10,
    });
  });

  test('SSL Mode is followed as far as node-postgres can: Require encrypts, the Verify modes check the certificate', () => {
    const ssl = (mode) => parseNpgsqlConnectionString(`Host=db;Database=inventory;SSL Mode=${mode}`).ssl;
    expect(ssl('Prefer')).toBeUndefined();
    expect(ssl('Disable')).toBeUndefined();
    expect(ssl('Require')).toEqual({ rejectUnauthorized: false });
    expect(ssl('VerifyFull')).toEqual({ rejectUnauthorized: true });
    expect(ssl('verify-ca')).toMatchObject({ rejectUnauthorized: true });
    expect(() => ssl('Sometimes')).toThrow(/SSL Mode 'sometimes'/);
  });

  test('a malformed one is refused', () => {
    expect(() => parseNpgsqlConnectionString('Host=db;Database=inventory;Maximum Pool Size=many')).toThrow(/Maximum Pool Size/);
    expect(() => parseNpgsqlConnectionString('Host=db')).toThrow(/Database/);
  });
});

describe('the original headers in an audit copy', () => {
  test('are kept as they came when small', () => {
    expect(JSON.parse(originalHeaders({ source: 'orders', 'sent-at': '2026-12-02 13:50:11:851695 Z' })))
      .toEqual({ source: 'orders', 'sent-at': '2026-12-02 13:50:11:851695 Z' });
  });

  test('each value is cut to 1024 characters, saying how long it was', () => {
    const kept = JSON.parse(originalHeaders({ big: 'x'.repeat(5000) }));
    expect(kept.big).toBe(`${'x'.repeat(1024)}… (5000 characters)`);
  });

  test('at most 32 768 characters in all, then a note of how many were left out', () => {
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`h${String(i).padStart(2, '0')}`, 'y'.repeat(1024)]));
    const kept = JSON.parse(originalHeaders(headers));
    const names = Object.keys(kept);
    expect(names).toHaveLength(32); // 31 headers of 1027 characters fit in 32 768, the 32nd does not
    expect(kept['(cut)']).toBe('9 more headers not kept');
  });
});

describe('trace context', () => {
  test('is read from parent-id (Wolverine) and from traceparent', () => {
    const traceparent = '00-f888d911b77105952695db5e43fe70c3-0557fc48ac6e7110-01';
    for (const headers of [{ 'parent-id': traceparent }, { traceparent }]) {
      const span = trace.getSpanContext(extractParent(headers));
      expect(span).toEqual(expect.objectContaining({ traceId: 'f888d911b77105952695db5e43fe70c3', spanId: '0557fc48ac6e7110', isRemote: true }));
    }
  });

  test('round-trips through an outgoing parent-id', () => {
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const parentId = traceparentOf(trace.setSpanContext(ROOT_CONTEXT, spanContext));
    expect(parentId).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(trace.getSpanContext(extractParent({ 'parent-id': parentId }))).toEqual(expect.objectContaining(spanContext));
  });

  test('no incoming trace context: a root', () => {
    expect(trace.getSpanContext(extractParent({}))).toBeUndefined();
    expect(traceparentOf(context.active())).toBeNull();
  });
});

describe('what Inventory publishes', () => {
  const cause = {
    messageId: '0193a1a0-0000-7000-8000-00000000000a', type: 'Conveyor.Messages.OrderPlaced', correlationId: 'order-1',
    contentType: 'application/json', userId: 'orders', headers: { 'conveyor-conversation-id': 'conversation-1' }, body: Buffer.from('{}'),
  };
  const now = new Date('2026-12-02T13:50:11.851Z');

  test("is in Wolverine's wire format, with the conversation and cause of the message that caused it", () => {
    const wire = toWireMessage({ type: 'Conveyor.Messages.StockReserved', body: { orderId: 'order-1', lines: [], reservedAt: now.toISOString() } },
      { cause, brokerUser: 'inventory', now });

    expect(wire.exchange).toBe('StockReserved');
    expect(wire.routingKey).toBe('');
    expect(wire.properties).toEqual({
      messageId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      type: 'Conveyor.Messages.StockReserved', correlationId: 'order-1', contentType: 'application/json', deliveryMode: 2, userId: 'inventory',
    });
    expect(wire.headers).toEqual({
      'conveyor-conversation-id': 'conversation-1', 'conveyor-related-to': cause.messageId, 'conveyor-message-intent': 'publish',
      source: 'inventory', 'sent-at': '2026-12-02 13:50:11:851000 Z',
    });
    expect(JSON.parse(wire.body.toString())).toEqual({ orderId: 'order-1', lines: [], reservedAt: '2026-12-02T13:50:11.851Z' });
  });

  test('the conversation is the order when the cause carries none', () => {
    const wire = toWireMessage({ type: 'Conveyor.Messages.StockReleased', body: { orderId: 'order-1' } }, { cause: { ...cause, headers: {} }, brokerUser: 'inventory', now });
    expect(wire.headers['conveyor-conversation-id']).toBe('order-1');
  });

  test('header values from the broker become strings', () => {
    expect(headersAsStrings({ a: Buffer.from('bytes'), b: 3, c: { x: 1 }, d: null })).toEqual({ a: 'bytes', b: '3', c: '{"x":1}' });
  });

  test('message ids are UUID v7, in creation order', () => {
    expect(uuidv7(1_000) < uuidv7(2_000)).toBe(true);
  });
});

describe('the queue Inventory declares', () => {
  const { queueArguments } = require('../../src/broker');

  test('is a quorum queue that never dead-letters a redelivery, in the way each broker version spells it', () => {
    expect(queueArguments(Buffer.from('4.1.4'))).toEqual({ 'x-queue-type': 'quorum', 'x-delivery-limit': -1 });
    expect(queueArguments('3.10.8')).toEqual({ 'x-queue-type': 'quorum' });
    expect(queueArguments(undefined)).toEqual({ 'x-queue-type': 'quorum' });
  });
});
