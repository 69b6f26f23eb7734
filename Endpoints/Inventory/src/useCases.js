'use strict';

const { reserveStock } = require('./reserveStock');
const { releaseStock } = require('./releaseStock');
const { sellStock } = require('./sellStock');

/**
 * What Inventory does with each message it reads, in the order an order's messages flow.
 * @type {Record<string, (tx: import('./stock').Transaction, message: any, now: Date) => Promise<import('./stock').Decision>>}
 */
module.exports = {
  'Conveyor.Messages.OrderPlaced': reserveStock,
  'Conveyor.Messages.OrderConfirmed': sellStock,
  'Conveyor.Messages.OrderCancelled': releaseStock,
};
