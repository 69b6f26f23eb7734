'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;

/**
 * The exception type of a refusal for the sender, as the .NET endpoints name it: ServiceControl files such a failure
 * as rejected and never retries it, since a retry would deliver it again with ServiceControl's rights, which every
 * endpoint accepts. A protocol value, not a class of this code.
 */
const UNTRUSTED_SENDER = 'Conveyor.Hosting.UntrustedSenderException';

/** A message that can never be handled, however often it is tried: it goes straight to `error`. */
class PoisonMessageError extends Error {
  /** @param {string} exceptionType e.g. `Inventory.MessageValidationError` @param {string} message */
  constructor(exceptionType, message) {
    super(message);
    this.name = exceptionType;
    this.exceptionType = exceptionType;
  }
}

/** @param {string} type `Conveyor.Messages.OrderPlaced` @returns {string} `OrderPlaced` */
const shortName = (type) => type.slice(type.lastIndexOf('.') + 1);

/**
 * The message schemas (Messages/schemas, draft 2020-12). Unknown properties are allowed by the schemas themselves:
 * during a rolling deploy a newer sender may add fields this version does not know.
 * @param {string} schemasDirectory
 * @param {string[]} types full type names to load
 */
function loadSchemas(schemasDirectory, types) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  /** @type {Map<string, import('ajv').ValidateFunction>} */
  const validators = new Map();
  for (const type of types) {
    const file = path.join(schemasDirectory, `${shortName(type)}.schema.json`);
    let schema;
    try {
      schema = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`Cannot read the schema of ${type} from '${file}' (Inventory__SchemasDirectory): ${error.message}`);
    }
    validators.set(type, ajv.compile(schema));
  }

  return {
    types: [...validators.keys()],
    /**
     * @param {string} type @param {unknown} body
     * @returns {{ valid: true } | { valid: false, reason: string }}
     */
    validate(type, body) {
      const validator = validators.get(type);
      if (!validator) return { valid: false, reason: `no schema for ${type}` };
      if (validator(body)) return { valid: true };
      return { valid: false, reason: ajv.errorsText(validator.errors, { dataVar: shortName(type), separator: '; ' }) };
    },
  };
}

/** @typedef {ReturnType<typeof loadSchemas>} Schemas */

/**
 * Who may send a message: the broker users the topology lists as its senders. RabbitMQ vouches for `user_id`, so it
 * is the only sender identity trusted. ServiceControl may put back any failed message (with the header saying so).
 * @param {import('./config').Topology} topology
 * @param {string} type
 * @param {string | undefined} userId
 * @param {Record<string, string>} headers
 * @returns {{ trusted: true } | { trusted: false, reason: string }}
 */
function checkSender(topology, type, userId, headers) {
  const declared = topology.messages.find((m) => m.type === type);
  if (!declared) return { trusted: false, reason: `${type} is not a message of the topology` };
  if (userId && declared.senders.includes(userId)) return { trusted: true };
  if (userId === topology.serviceControl && (headers['conveyor-retry-of'] || headers['conveyor-edited-from'])) return { trusted: true };
  return {
    trusted: false,
    reason: `${shortName(type)} from broker user '${userId ?? '(none)'}' refused: only ${declared.senders.join(', ')} may send it`,
  };
}

/**
 * A UUID v7 (time-ordered, RFC 9562): message ids that sort by creation, like Wolverine's.
 * @param {number} [now]
 */
function uuidv7(now = Date.now()) {
  const bytes = crypto.randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Wolverine's `sent-at` header, `yyyy-MM-dd HH:mm:ss:ffffff Z` (UTC), as ISO 8601 with the microseconds kept.
 * @param {string | undefined} text
 * @returns {string | null} null when absent or unparsable
 */
function parseWolverineTime(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}):(\d{1,7}) Z$/.exec(text ?? '');
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction] = match;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.padEnd(6, '0')}Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

/** @param {Date} date @returns {string} Wolverine's `sent-at` form */
function formatWolverineTime(date) {
  const iso = date.toISOString(); // 2026-12-02T13:50:11.851Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}:${iso.slice(20, 23)}000 Z`;
}

/**
 * AMQP header values as strings: Wolverine writes strings, but the AMQP table may carry numbers, byte arrays or
 * tables, and a header that goes back out (to `error`, into an audit copy) must be a string for amqplib.
 * @param {Record<string, unknown> | undefined} headers
 * @returns {Record<string, string>}
 */
function headersAsStrings(headers) {
  /** @type {Record<string, string>} */
  const strings = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    strings[name] = Buffer.isBuffer(value) ? value.toString('utf8')
      : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return strings;
}

/**
 * @typedef {object} Delivery  A message as it arrived, independent of amqplib (so it can be stored and retried).
 * @property {string} messageId
 * @property {string} type
 * @property {string | undefined} correlationId
 * @property {string | undefined} contentType
 * @property {string | undefined} userId
 * @property {Record<string, string>} headers
 * @property {Buffer} body
 */

/** @param {import('amqplib').ConsumeMessage} message @returns {Delivery} */
function readDelivery(message) {
  const p = message.properties;
  return {
    // A message without an id cannot be deduplicated; its content hash keeps redeliveries of it recognisable.
    messageId: p.messageId ? String(p.messageId) : `sha256:${crypto.createHash('sha256').update(message.content).digest('hex')}`,
    type: p.type ? String(p.type) : '',
    correlationId: p.correlationId ? String(p.correlationId) : undefined,
    contentType: p.contentType ? String(p.contentType) : undefined,
    userId: p.userId ? String(p.userId) : undefined,
    headers: headersAsStrings(p.headers),
    body: message.content,
  };
}

/**
 * The business message in a delivery, or a PoisonMessageError saying why there can never be one.
 * @param {Delivery} delivery
 * @param {{ topology: import('./config').Topology, schemas: Schemas, handledTypes: string[] }} contracts
 * @returns {object} the parsed, validated body
 */
function decodeDelivery(delivery, { topology, schemas, handledTypes }) {
  if (!handledTypes.includes(delivery.type)) {
    throw new PoisonMessageError('Inventory.UnknownMessageTypeError', `Inventory handles no message of type '${delivery.type || '(none)'}'`);
  }
  const sender = checkSender(topology, delivery.type, delivery.userId, delivery.headers);
  if (!sender.trusted) throw new PoisonMessageError(UNTRUSTED_SENDER, sender.reason);
  let body;
  try {
    body = JSON.parse(delivery.body.toString('utf8'));
  } catch (error) {
    throw new PoisonMessageError('Inventory.MessageDeserializationError', `The body of ${shortName(delivery.type)} is not JSON: ${error.message}`);
  }
  const validation = schemas.validate(delivery.type, body);
  if (!validation.valid) throw new PoisonMessageError('Inventory.MessageValidationError', validation.reason);
  return body;
}

/**
 * @typedef {object} WireMessage  What goes on the broker, as the outbox stores it.
 * @property {string} exchange
 * @property {string} routingKey
 * @property {{ messageId: string, type: string, correlationId?: string, contentType: string, deliveryMode: 2, userId: string }} properties
 * @property {Record<string, string>} headers
 * @property {Buffer} body
 */

/**
 * A message Inventory publishes, in Wolverine's wire format: fanout exchange named after the type, camelCase JSON,
 * the order id as correlation id, the conversation and cause inherited from the message that caused it.
 * @param {{ type: string, body: any, correlationId?: string }} event
 * @param {{ cause: Delivery | null, brokerUser: string, now: Date }} context
 * @returns {WireMessage}
 */
function toWireMessage(event, { cause, brokerUser, now }) {
  const correlationId = event.correlationId ?? event.body.orderId;
  /** @type {Record<string, string>} */
  const headers = {
    'conveyor-conversation-id': cause?.headers['conveyor-conversation-id'] ?? correlationId,
    'conveyor-message-intent': 'publish',
    source: brokerUser,
    'sent-at': formatWolverineTime(now),
  };
  if (cause) headers['conveyor-related-to'] = cause.messageId;
  for (const name of Object.keys(headers)) if (headers[name] === undefined) delete headers[name];
  return {
    exchange: shortName(event.type),
    routingKey: '',
    properties: { messageId: uuidv7(now.getTime()), type: event.type, correlationId, contentType: 'application/json', deliveryMode: 2, userId: brokerUser },
    headers,
    body: Buffer.from(JSON.stringify(event.body)),
  };
}

module.exports = {
  UNTRUSTED_SENDER,
  PoisonMessageError,
  shortName,
  loadSchemas,
  checkSender,
  uuidv7,
  parseWolverineTime,
  formatWolverineTime,
  headersAsStrings,
  readDelivery,
  decodeDelivery,
  toWireMessage,
};
