'use strict';

/**
 * Readiness: the database answers, the migrations ran, the broker consumer is up. The same checks feed the
 * heartbeats, so ServiceControl sees what a load balancer sees.
 * @param {{ pool: import('pg').Pool, broker: { consuming: boolean, lastError: Error | null }, state: { migrated: boolean, stopping: boolean } }} deps
 */
function createHealth({ pool, broker, state }) {
  async function timed(check) {
    const started = performance.now();
    let description = null;
    try {
      description = await check();
    } catch (error) {
      description = error.message || String(error);
    }
    return { status: description ? 'Unhealthy' : 'Healthy', description, durationMs: Math.round((performance.now() - started) * 10) / 10 };
  }

  const database = () => timed(async () => {
    if (!state.migrated) return 'The migrations have not run';
    await Promise.race([
      pool.query('select 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('The database did not answer within 2 s')), 2000).unref()),
    ]);
    return null;
  });

  const brokerCheck = () => timed(async () => {
    if (state.stopping) return 'Stopping';
    if (broker.consuming) return null;
    return `Not consuming${broker.lastError ? `: ${broker.lastError.message}` : ''}`;
  });

  return {
    /** @returns {Promise<{ status: 'Healthy' | 'Unhealthy', checks: Record<string, { status: string, description: string | null, durationMs: number }> }>} */
    async ready() {
      const [db, br] = await Promise.all([database(), brokerCheck()]);
      const checks = { database: db, broker: br };
      return { status: Object.values(checks).every((c) => c.status === 'Healthy') ? 'Healthy' : 'Unhealthy', checks };
    },
    /** The checks as a heartbeat reports them. */
    async heartbeatChecks() {
      const { checks } = await this.ready();
      return Object.entries(checks).map(([name, c]) => ({ name, passed: c.status === 'Healthy', reason: c.description }));
    },
  };
}

module.exports = { createHealth };
