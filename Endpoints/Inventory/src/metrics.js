'use strict';

const client = require('prom-client');

/**
 * The endpoint's Prometheus metrics, and the cumulative counters its heartbeats report to ServiceControl.
 * @param {{ outboxPending?: () => Promise<number> }} [sources]
 */
function createMetrics({ outboxPending } = {}) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  const handled = new client.Counter({
    name: 'conveyor_inventory_messages_handled_total',
    help: 'Messages Inventory handled, by type and outcome (processed, duplicate, retried, moved_to_error).',
    labelNames: ['message_type', 'outcome'],
    registers: [registry],
  });
  const reservations = new client.Counter({
    name: 'conveyor_inventory_reservations_total',
    help: 'Reservation decisions, by result (reserved, unavailable, released, sold).',
    labelNames: ['result'],
    registers: [registry],
  });
  const handlerDuration = new client.Histogram({
    name: 'conveyor_inventory_handler_duration_seconds',
    help: 'Time to handle one message (one attempt), by type.',
    labelNames: ['message_type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new client.Gauge({
    name: 'conveyor_inventory_outbox_pending',
    help: 'Messages committed to the outbox and not yet confirmed by the broker.',
    registers: [registry],
    async collect() {
      if (!outboxPending) return;
      // A scrape while the database is away still answers, without this gauge's value.
      try { this.set(await outboxPending()); } catch { /* left as it was */ }
    },
  });

  // What a heartbeat reports: cumulative since start, like the .NET endpoints' MessageCounters.
  const counters = { processed: 0, retried: 0, movedToError: 0, processingMilliseconds: 0, attempts: 0 };

  return {
    registry,
    counters,
    /** @param {string} type @param {'processed' | 'duplicate' | 'retried' | 'moved_to_error'} outcome */
    handled(type, outcome) {
      handled.inc({ message_type: type, outcome });
      if (outcome === 'processed') counters.processed += 1;
      if (outcome === 'retried') counters.retried += 1;
      if (outcome === 'moved_to_error') counters.movedToError += 1;
    },
    /** @param {string} type @param {number} ms */
    attempt(type, ms) {
      handlerDuration.observe({ message_type: type }, ms / 1000);
      counters.attempts += 1;
      counters.processingMilliseconds += ms;
    },
    /** @param {string} result */
    reservation(result) { reservations.inc({ result }); },
    snapshot: () => ({ ...counters }),
  };
}

/** @typedef {ReturnType<typeof createMetrics>} Metrics */

module.exports = { createMetrics };
