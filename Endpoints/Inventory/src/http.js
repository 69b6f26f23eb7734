'use strict';

const http = require('node:http');
const net = require('node:net');

/** @param {{ address: string, prefix: number, family: string }[]} networks */
function scrapeAllowList(networks) {
  const list = new net.BlockList();
  for (const { address, prefix, family } of networks) list.addSubnet(address, prefix, family);
  /** @param {string | undefined} remote */
  return (remote) => {
    if (!remote) return false;
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
    const address = mapped ? mapped[1] : remote;
    return list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
  };
}

const PROBLEMS = {
  403: { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.4', title: 'Forbidden' },
  404: { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.5', title: 'Not Found' },
  500: { type: 'https://tools.ietf.org/html/rfc9110#section-15.6.1', title: 'An error occurred while processing your request.' },
};

/**
 * Health and metrics over plain node:http: `/health/live`, `/health/ready`, `/metrics` (scrape networks only). With a
 * management port (a second server), `/metrics` answers there only and health on both, as Hosting/EndpointHealth.cs does.
 * @param {{ health: ReturnType<typeof import('./health').createHealth>, registry: import('prom-client').Registry,
 *   scrapeNetworks: { address: string, prefix: number, family: string }[], logger: import('pino').Logger, servesMetrics?: boolean }} deps
 */
function createHttpServer({ health, registry, scrapeNetworks, logger, servesMetrics = true }) {
  const mayScrape = scrapeAllowList(scrapeNetworks);
  const send = (res, status, contentType, body) => {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  };
  const problem = (res, status) => send(res, status, 'application/problem+json', JSON.stringify({ ...PROBLEMS[status], status }));

  return http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://inventory').pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 404);
      if (path === '/health/live') return send(res, 200, 'application/json', JSON.stringify({ status: 'Healthy', checks: {} }));
      if (path === '/health/ready') {
        const report = await health.ready();
        return send(res, report.status === 'Healthy' ? 200 : 503, 'application/json', JSON.stringify(report));
      }
      if (path === '/metrics' && servesMetrics) {
        if (!mayScrape(req.socket.remoteAddress)) return problem(res, 403);
        return send(res, 200, registry.contentType, await registry.metrics());
      }
      return problem(res, 404);
    } catch (error) {
      logger.error({ err: error }, `${req.method} ${req.url} failed`);
      if (!res.headersSent) problem(res, 500);
      else res.end();
    }
  });
}

module.exports = { createHttpServer, scrapeAllowList };
