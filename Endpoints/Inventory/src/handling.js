'use strict';

const { recordHandled } = require('./inbox');
const { enqueue } = require('./outbox');
const { auditCopy } = require('./auditing');
const { toWireMessage, shortName } = require('./contracts');
const { producerSpan } = require('./telemetry');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One attempt at handling a message, in the caller's transaction: the inbox row, the use case's changes, the events
 * it publishes, the retry confirmation and the audit copy all commit together, or none of them do.
 *
 * @param {{ useCases: Record<string, Function>, schemas: import('./contracts').Schemas, config: import('./config').Config }} deps
 */
function createHandler({ useCases, schemas, config }) {
  const where = { endpoint: config.endpoint, instance: config.instance, queue: `rabbitmq://queue/${config.self.queue}` };

  /**
   * @param {import('./stock').Transaction} tx
   * @param {import('./contracts').Delivery} delivery
   * @param {object} message  the validated body
   * @returns {Promise<{ duplicate: true } | { duplicate: false, decision: import('./stock').Decision, outgoing: import('./contracts').WireMessage[] }>}
   */
  return async function handle(tx, delivery, message) {
    const startedAt = new Date();
    if (!(await recordHandled(tx, delivery.messageId))) return { duplicate: true };

    const decision = await useCases[delivery.type](tx, message, startedAt);

    /** @type {{ type: string, body: object, correlationId?: string }[]} */
    const events = decision.event ? [decision.event] : [];
    const failedMessageId = delivery.headers['conveyor-retry-of'];
    if (failedMessageId && UUID.test(failedMessageId)) {
      // ServiceControl marks a failed message resolved only once a retry of it has really been handled.
      events.push({
        type: 'Conveyor.Hosting.ServiceControl.RetrySucceeded',
        body: { failedMessageId, endpoint: config.endpoint, handledAt: startedAt.toISOString() },
        correlationId: delivery.correlationId,
      });
    }

    const outgoing = events.map((event) => {
      if (schemas.types.includes(event.type)) {
        const validation = schemas.validate(event.type, event.body);
        // A bug of ours, not the sender's: retried and then moved to error like any other failure.
        if (!validation.valid) throw new Error(`Inventory would publish an invalid ${shortName(event.type)}: ${validation.reason}`);
      }
      const wire = toWireMessage(event, { cause: delivery, brokerUser: config.brokerUser, now: startedAt });
      const parentId = producerSpan(wire.exchange, wire.properties.messageId);
      if (parentId) wire.headers['parent-id'] = parentId;
      return wire;
    });

    const copies = config.audit.enabled
      ? [auditCopy(delivery, { where, brokerUser: config.brokerUser, startedAt, endedAt: new Date(), outgoing, auditQueue: config.topology.auditQueue })]
      : [];
    await enqueue(tx, [...outgoing, ...copies]);
    return { duplicate: false, decision, outgoing };
  };
}

module.exports = { createHandler };
