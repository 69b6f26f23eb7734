'use strict';

const { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { ATTR_SERVICE_NAME } = require('@opentelemetry/semantic-conventions');

const propagator = new W3CTraceContextPropagator();

/**
 * Wolverine carries the W3C traceparent in its `parent-id` header; other senders use `traceparent`. Reading both
 * keeps an order one trace across .NET and Node endpoints.
 * @type {import('@opentelemetry/api').TextMapGetter<Record<string, string>>}
 */
const headerGetter = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => (key === 'traceparent' ? headers['parent-id'] ?? headers.traceparent : headers[key]),
};

/** The context a message's sender was in, as the parent of its handling. @param {Record<string, string>} headers */
function extractParent(headers) {
  return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** The traceparent of the span active in `ctx`, for an outgoing `parent-id` header. @returns {string | null} */
function traceparentOf(ctx) {
  /** @type {Record<string, string>} */
  const carrier = {};
  propagator.inject(ctx, carrier, { set: (c, key, value) => { c[key] = value; } });
  return carrier.traceparent ?? null;
}

/**
 * Starts tracing. Spans exist whether or not they are exported (log lines carry their ids); they leave the process
 * only when an OTLP endpoint is configured.
 * @param {{ otlpEndpoint: string | null, instanceId: string }} options
 */
function startTelemetry({ otlpEndpoint, instanceId }) {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: 'inventory',
      // Not yet stable semantic conventions, hence the literals.
      'service.namespace': 'conveyor',
      'service.instance.id': instanceId,
    }),
    spanProcessors: otlpEndpoint
      ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }))]
      : [],
  });
  // Registers the AsyncLocalStorage context manager: the active span follows each handler through its awaits.
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

const tracer = trace.getTracer('conveyor.inventory');

/**
 * Runs `fn` in a span (active while it runs), ending it with the outcome.
 * @template T
 * @param {string} name @param {import('@opentelemetry/api').SpanOptions} options
 * @param {import('@opentelemetry/api').Context} parent @param {(span: import('@opentelemetry/api').Span) => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function inSpan(name, options, parent, fn) {
  const span = tracer.startSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A PRODUCER span for a message about to be written to the outbox, a child of the active (consumer) span; its
 * traceparent becomes the message's `parent-id`, so the receiver's span joins the same trace.
 * @param {string} shortType @param {string} messageId @returns {string | null} the traceparent
 */
function producerSpan(shortType, messageId) {
  const span = tracer.startSpan(`${shortType} publish`, {
    kind: SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'rabbitmq', 'messaging.destination.name': shortType, 'messaging.message.id': messageId },
  });
  const parentId = traceparentOf(trace.setSpan(context.active(), span));
  span.end();
  return parentId;
}

/** Trace and span id of the active span, for log lines. */
function activeSpanIds() {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : null;
}

module.exports = { extractParent, traceparentOf, startTelemetry, inSpan, producerSpan, activeSpanIds, SpanKind, tracer };
