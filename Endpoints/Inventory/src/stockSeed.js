'use strict';

const fs = require('node:fs');

/**
 * The stock to seed from the catalog: the items that give a `stock`. Items without one are not stocked here.
 * @param {{ items?: { sku: string, stock?: number }[] }} catalog
 * @returns {{ sku: string, available: number }[]}
 */
function stockToSeed(catalog) {
  if (!Array.isArray(catalog?.items)) throw new Error('The stock file has no "items" array');
  return catalog.items
    .filter((item) => item.stock !== undefined && item.stock !== null)
    .map((item) => {
      if (typeof item.sku !== 'string' || !item.sku) throw new Error('A stock file item has no sku');
      if (!Number.isInteger(item.stock) || item.stock < 0 || item.stock > 2 ** 31 - 1) {
        throw new Error(`The stock of ${item.sku} must be a whole number from 0, not ${JSON.stringify(item.stock)}`);
      }
      return { sku: item.sku, available: item.stock };
    });
}

/**
 * Inserts each SKU not stocked yet. Never overwrites a live level: the file is where a SKU starts, not what it has.
 * @param {import('pg').Pool} pool @param {string} file @param {import('pino').Logger} logger
 */
async function seedStock(pool, file, logger) {
  if (!fs.existsSync(file)) {
    logger.warn(`No stock file at ${file} (Inventory__StockFile): no stock seeded`);
    return 0;
  }
  const rows = stockToSeed(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!rows.length) {
    logger.warn(`The stock file ${file} gives no item a "stock": no stock seeded`);
    return 0;
  }
  const { rowCount } = await pool.query(
    `INSERT INTO stock (sku, available) SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT (sku) DO NOTHING`,
    [rows.map((r) => r.sku), rows.map((r) => r.available)],
  );
  logger.info(`Seeded ${rowCount} new SKU(s) of ${rows.length} in ${file}`);
  return rowCount ?? 0;
}

module.exports = { stockToSeed, seedStock };
