'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { Pool } = require('pg');

/**
 * @param {import('pg').PoolConfig} config
 * @param {import('pino').Logger} logger
 */
function createPool(config, logger) {
  const pool = new Pool({ ...config, application_name: 'inventory' });
  // A connection PostgreSQL ends (a restart, a failover) emits 'error': on the pool while idle, on the client while
  // checked out. Unhandled, either would end the process; the query in flight fails and is retried like any failure.
  pool.on('error', (error) => logger.warn({ err: error }, 'An idle database connection failed'));
  pool.on('connect', (client) => client.on('error', (error) => logger.warn({ err: error }, 'A database connection failed')));
  return pool;
}

/**
 * Runs `fn` in a transaction on a client of its own; commits what it returns, rolls back what it throws.
 * @template T
 * @param {import('pg').Pool} pool
 * @param {(tx: import('pg').PoolClient) => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function inTransaction(pool, fn) {
  const client = await pool.connect();
  let failed = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    failed = true;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // A client whose transaction failed may have lost its connection: the pool replaces it rather than hand it out.
    client.release(failed);
  }
}

/** The SQL files of `directory`, in name order (001_, 002_, ...). @param {string} directory */
function readMigrations(directory) {
  return fs.readdirSync(directory)
    .filter((name) => /^\d+_.*\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: name.replace(/\.sql$/, ''), sql: fs.readFileSync(path.join(directory, name), 'utf8') }));
}

/**
 * Applies the migrations not applied yet. Several instances may start at once: a session advisory lock lets one of
 * them migrate while the others wait, then find nothing left to do.
 * @param {import('pg').Pool} pool @param {string} directory @param {import('pino').Logger} logger
 * @returns {Promise<string[]>} the versions applied now
 */
async function migrate(pool, directory, logger) {
  const migrations = readMigrations(directory);
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtextextended('conveyor.inventory.migrations', 0))");
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const now = [];
    for (const migration of migrations.filter((m) => !applied.has(m.version))) {
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`Migration ${migration.version} failed: ${error.message}`);
      }
      logger.info({ 'conveyor.migration': migration.version }, `Applied migration ${migration.version}`);
      now.push(migration.version);
    }
    return now;
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtextextended('conveyor.inventory.migrations', 0))").catch(() => {});
    client.release();
  }
}

module.exports = { createPool, inTransaction, readMigrations, migrate };
