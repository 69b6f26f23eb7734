'use strict';

const { parseWolverineTime, uuidv7 } = require('./contracts');

// A copy's headers must fit one AMQP frame (128 KB by default), or the broker refuses it and closes the channel.
const MAX_ORIGINAL_HEADER_LENGTH = 1024;
const MAX_ORIGINAL_HEADERS_LENGTH = 32 * 1024;
const MAX_OUTGOING_LISTED = 100;

/**
 * @typedef {{ endpoint: string, instance: string, queue: string }} Where  where a message was handled
 */

/**
 * What an audit copy and a failed message both say about the message and where it was handled
 * (the audit contract, shared with the .NET endpoints' Hosting/Auditing.cs).
 * @param {import('./contracts').Delivery} delivery @param {Where} where
 * @returns {Record<string, string>}
 */
function describe(delivery, where) {
  /** @type {Record<string, string | null | undefined>} */
  const described = {
    'conveyor-message-id': delivery.messageId,
    'conveyor-message-type': delivery.type,
    'conveyor-correlation-id': delivery.correlationId,
    'conveyor-content-type': delivery.contentType,
    'conveyor-sending-endpoint': delivery.userId,
    'conveyor-endpoint': where.endpoint,
    'conveyor-processing-instance': where.instance,
    'conveyor-queue': where.queue,
    'conveyor-time-sent': parseWolverineTime(delivery.headers['sent-at']),
    'conveyor-conversation-id': delivery.headers['conveyor-conversation-id'] ?? delivery.correlationId,
    'conveyor-related-to': delivery.headers['conveyor-related-to'],
    'conveyor-message-intent': delivery.headers['conveyor-message-intent'],
  };
  return /** @type {Record<string, string>} */ (Object.fromEntries(Object.entries(described).filter(([, v]) => v !== undefined && v !== null && v !== '')));
}

/**
 * The headers a message arrived with, as a JSON object, each value cut to 1024 characters and all of them to 32 768.
 * @param {Record<string, string>} headers @returns {string}
 */
function originalHeaders(headers) {
  /** @type {Record<string, string>} */
  const kept = {};
  const names = Object.keys(headers);
  let length = 0;
  for (const [index, name] of names.entries()) {
    const value = headers[name];
    const shown = value.length > MAX_ORIGINAL_HEADER_LENGTH ? `${value.slice(0, MAX_ORIGINAL_HEADER_LENGTH)}… (${value.length} characters)` : value;
    length += name.length + shown.length;
    if (length > MAX_ORIGINAL_HEADERS_LENGTH) {
      kept['(cut)'] = `${names.length - index} more headers not kept`;
      break;
    }
    kept[name] = shown;
  }
  return JSON.stringify(kept);
}

/** What the handler published, as the `conveyor-outgoing` JSON array. @param {import('./contracts').WireMessage[]} messages */
function outgoingList(messages) {
  return JSON.stringify(messages.slice(0, MAX_OUTGOING_LISTED).map((m) => ({
    id: m.properties.messageId,
    type: m.properties.type,
    intent: m.headers['conveyor-message-intent'] ?? 'publish',
    destination: `rabbitmq://exchange/${m.exchange}`,
    dueAt: null,
  })));
}

/**
 * The copy of a handled message for `audit`: its body byte for byte, the rest in headers. Sent through the outbox in
 * the handling transaction: a message is audited exactly when its effects commit.
 * @param {import('./contracts').Delivery} delivery
 * @param {{ where: Where, brokerUser: string, startedAt: Date, endedAt: Date, outgoing: import('./contracts').WireMessage[], auditQueue: string }} context
 * @returns {import('./contracts').WireMessage}
 */
function auditCopy(delivery, { where, brokerUser, startedAt, endedAt, outgoing, auditQueue }) {
  return {
    exchange: auditQueue,
    routingKey: '',
    properties: {
      messageId: uuidv7(endedAt.getTime()),
      type: 'Conveyor.Hosting.AuditCopy',
      correlationId: delivery.correlationId,
      contentType: 'application/octet-stream',
      deliveryMode: 2,
      userId: brokerUser,
    },
    headers: {
      ...describe(delivery, where),
      'conveyor-processing-started': startedAt.toISOString(),
      'conveyor-processing-ended': endedAt.toISOString(),
      'conveyor-outgoing': outgoingList(outgoing),
      'conveyor-original-headers': originalHeaders(delivery.headers),
    },
    body: delivery.body,
  };
}

module.exports = { describe, originalHeaders, outgoingList, auditCopy, MAX_ORIGINAL_HEADER_LENGTH, MAX_ORIGINAL_HEADERS_LENGTH };
