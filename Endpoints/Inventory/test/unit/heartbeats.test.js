'use strict';

const { heartbeatBody, heartbeatMessage } = require('../../src/heartbeats');
const { scrapeAllowList } = require('../../src/http');
const { parseCidr } = require('../../src/config');

describe('heartbeats', () => {
  test('the body is the one the .NET endpoints send', () => {
    const body = heartbeatBody({
      endpoint: 'inventory', host: 'inventory-1', processId: 42,
      startedAt: new Date('2026-12-02T13:00:00.000Z'), sentAt: new Date('2026-12-02T13:00:10.000Z'), interval: '00:00:10',
      checks: [{ name: 'database', passed: true, reason: null }, { name: 'broker', passed: true, reason: null }],
      counters: { processed: 0, retried: 0, movedToError: 0, processingMilliseconds: 0, attempts: 0 },
    });

    expect(JSON.stringify(body)).toBe('{"endpoint":"inventory","host":"inventory-1","processId":42,"startedAt":"2026-12-02T13:00:00.000Z",'
      + '"sentAt":"2026-12-02T13:00:10.000Z","interval":"00:00:10","checks":[{"name":"database","passed":true,"reason":null},'
      + '{"name":"broker","passed":true,"reason":null}],"counters":{"processed":0,"retried":0,"movedToError":0,"processingMilliseconds":0,"attempts":0}}');
  });

  test('is sent to EndpointHeartbeat, persistent, as the broker user, with no conversation', () => {
    const message = heartbeatMessage({ endpoint: 'inventory' }, 'inventory', new Date());

    expect(message.exchange).toBe('EndpointHeartbeat');
    expect(message.properties).toEqual(expect.objectContaining({
      type: 'Conveyor.Hosting.ServiceControl.EndpointHeartbeat', deliveryMode: 2, userId: 'inventory', contentType: 'application/json',
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    }));
    expect(message.headers).toEqual({});
  });
});

describe('who may scrape /metrics', () => {
  const mayScrape = scrapeAllowList([parseCidr('127.0.0.0/8'), parseCidr('::1'), parseCidr('10.1.0.0/16')]);

  test.each([['127.0.0.1', true], ['::1', true], ['::ffff:127.0.0.5', true], ['10.1.2.3', true], ['10.2.0.1', false], ['192.168.1.1', false], ['fe80::1', false], [undefined, false]])(
    '%s: %s', (address, allowed) => expect(mayScrape(address)).toBe(allowed),
  );
});
