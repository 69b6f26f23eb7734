'use strict';

/**
 * A stand-in for PostgreSQL that answers the statements Inventory sends from in-memory tables, and records what was
 * written to the outbox and to delayed_retries. Enough to test the plumbing around the use cases without a database.
 */
function fakeDatabase({ stock = {}, reservations = {}, handled = [] } = {}) {
  const db = { stock: { ...stock }, reservations: { ...reservations }, inbox: new Set(handled), outbox: [], delayed: [], statements: [] };

  const client = {
    async query(sql, params = []) {
      db.statements.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
      if (/^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/.test(sql.trim())) return { rows: [], rowCount: 0 };
      if (sql.includes('pg_advisory_xact_lock')) return { rows: [], rowCount: 1 };
      if (sql.startsWith('INSERT INTO inbox')) {
        if (db.inbox.has(params[0])) return { rows: [], rowCount: 0 };
        db.inbox.add(params[0]);
        return { rows: [], rowCount: 1 };
      }
      if (sql.startsWith('SELECT order_id, status, lines FROM reservations')) {
        const r = db.reservations[params[0]];
        return { rows: r ? [{ order_id: params[0], status: r.status, lines: r.lines }] : [] };
      }
      if (sql.startsWith('SELECT sku, available FROM stock')) {
        return { rows: params[0].filter((sku) => sku in db.stock).sort().map((sku) => ({ sku, available: db.stock[sku] })) };
      }
      if (sql.startsWith('UPDATE stock')) {
        const [sku, available] = params;
        if (!(sku in db.stock)) return { rows: [], rowCount: 0 };
        db.stock[sku] += available;
        return { rows: [], rowCount: 1 };
      }
      if (sql.startsWith('INSERT INTO reservations')) {
        db.reservations[params[0]] = { status: params[1], lines: JSON.parse(params[2]) };
        return { rows: [], rowCount: 1 };
      }
      if (sql.startsWith('INSERT INTO outbox')) {
        params[0].forEach((exchange, i) => db.outbox.push({
          exchange, routingKey: params[1][i], properties: JSON.parse(params[2][i]), headers: JSON.parse(params[3][i]), body: params[4][i],
        }));
        return { rows: [], rowCount: params[0].length };
      }
      if (sql.startsWith('INSERT INTO delayed_retries')) {
        db.delayed.push({ message_id: params[0], attempts: params[4], delayed_rounds: 0, first_failure_at: params[5] });
        return { rows: [], rowCount: 1 };
      }
      if (sql.startsWith('DELETE FROM delayed_retries')) {
        db.delayed = db.delayed.filter((row) => row.id !== params[0]);
        return { rows: [], rowCount: 1 };
      }
      if (sql.startsWith('SELECT * FROM delayed_retries')) return { rows: db.delayed.slice(0, 1) };
      if (sql.startsWith('UPDATE delayed_retries')) {
        Object.assign(db.delayed.find((row) => row.id === params[0]), { attempts: params[1], delayed_rounds: params[2] });
        return { rows: [], rowCount: 1 };
      }
      throw new Error(`The fake database does not know: ${sql}`);
    },
    release() {},
  };

  db.pool = { connect: async () => client, query: (sql, params) => client.query(sql, params) };
  db.client = client;
  return db;
}

module.exports = { fakeDatabase };
