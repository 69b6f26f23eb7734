'use strict';

const pino = require('pino');
const { ecsFormat } = require('@elastic/ecs-pino-format');
const { activeSpanIds } = require('./telemetry');

/** The logger's name (ECS `log.logger`), kept on the logger itself: pino would repeat a key given again in a child's bindings. */
const NAME = Symbol('log.logger');

/**
 * ECS JSON, one object per line on stdout, with the fields the .NET endpoints write (Hosting/EcsLogging.cs), so one
 * pipeline reads every endpoint. Trace and span ids come from the active span.
 * @param {{ instanceId: string, level?: string }} options
 * @returns {import('pino').Logger}
 */
function createLogger({ instanceId, level = process.env.LOG_LEVEL || 'info' }) {
  const ecs = ecsFormat({ convertErr: true, apmIntegration: false });
  const root = pino({
    ...ecs,
    level,
    formatters: {
      ...ecs.formatters,
      bindings: (bindings) => ({
        ...ecs.formatters.bindings(bindings),
        'ecs.version': '8.11.0',
        'service.name': 'inventory',
        'service.namespace': 'conveyor',
        'service.instance.id': instanceId,
        'event.dataset': 'conveyor.inventory',
      }),
      log: (object) => flattenError(ecs.formatters.log(object)),
    },
    mixin(_object, _level, logger) {
      const ids = activeSpanIds();
      return { 'log.logger': logger[NAME], ...(ids ? { 'trace.id': ids.traceId, 'span.id': ids.spanId } : {}) };
    },
  });
  root[NAME] = 'Inventory';
  return root;
}

/**
 * A child logger with a name of its own and fields on every line.
 * @param {import('pino').Logger} logger @param {string} name @param {object} [bindings]
 */
function named(logger, name, bindings = {}) {
  const child = logger.child(bindings);
  child[NAME] = name;
  return child;
}

/** `error.type`, `error.message`, `error.stack_trace` as flat keys, the way the .NET endpoints write them. */
function flattenError(object) {
  if (!object.error || typeof object.error !== 'object') return object;
  const { error, ...rest } = object;
  return { ...rest, 'error.type': error.type, 'error.message': error.message, 'error.stack_trace': error.stack_trace };
}

module.exports = { createLogger, named };
