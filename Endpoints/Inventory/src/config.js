'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ENDPOINT = 'inventory';
const PACKAGE_DIR = path.resolve(__dirname, '..');

/** A setting that is missing or malformed: the process stops at start-up, naming the variable. */
class ConfigurationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * @typedef {object} Topology  deploy/topology.json, generated from Topology/SystemTopology.cs.
 * @property {string} errorQueue
 * @property {string} auditQueue
 * @property {string} serviceControl
 * @property {{run: string}} vhosts
 * @property {{type: string, exchange: string, kind: string, senders: string[]}[]} messages
 * @property {ProcessTopology[]} processes
 *
 * @typedef {object} ProcessTopology
 * @property {string} name
 * @property {number} port
 * @property {string} queue
 * @property {string} database
 * @property {string} databaseRole
 * @property {string} brokerUser
 * @property {string} developmentPassword
 * @property {string[]} exchangesRead
 * @property {string[]} exchangesWritten
 */

/** @param {string} file @returns {Topology} */
function loadTopology(file) {
  let topology;
  try {
    topology = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`Cannot read the topology file '${file}' (Conveyor__TopologyFile): ${error.message}`);
  }
  if (!Array.isArray(topology.processes) || !topology.processes.some((p) => p.name === ENDPOINT)) {
    throw new ConfigurationError(`The topology file '${file}' declares no process '${ENDPOINT}'`);
  }
  return topology;
}

/**
 * A .NET TimeSpan in its invariant ("c") form, `[-][d.]hh:mm:ss[.fffffff]`, as milliseconds.
 * @param {string} text
 * @returns {number}
 */
function parseTimeSpan(text) {
  const match = /^\s*(-)?(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?\s*$/.exec(text ?? '');
  if (!match) throw new ConfigurationError(`'${text}' is not a TimeSpan (hh:mm:ss[.fff])`);
  const [, negative, days, hours, minutes, seconds, fraction] = match;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) {
    throw new ConfigurationError(`'${text}' is not a TimeSpan (hh:mm:ss[.fff])`);
  }
  const ms = ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000
    + Number(seconds) * 1000 + (fraction ? Number(`0.${fraction}`) * 1000 : 0);
  return negative ? -ms : ms;
}

/**
 * Milliseconds as .NET's System.Text.Json writes a TimeSpan ("c" format): `00:00:10`, `00:00:00.5000000`.
 * @param {number} ms
 */
function formatTimeSpan(ms) {
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  const totalMs = Math.round(Math.abs(ms));
  const days = Math.floor(totalMs / 86_400_000);
  const hours = Math.floor(totalMs / 3_600_000) % 24;
  const minutes = Math.floor(totalMs / 60_000) % 60;
  const seconds = Math.floor(totalMs / 1000) % 60;
  const fraction = totalMs % 1000;
  return `${ms < 0 ? '-' : ''}${days ? `${days}.` : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}${fraction ? `.${pad(fraction * 10_000, 7)}` : ''}`;
}

/**
 * An Npgsql connection string (`Host=..;Port=..;Database=..;Username=..;Password=..;Maximum Pool Size=N`) as a
 * `pg` Pool configuration. Keys are case-insensitive, as in Npgsql; values may be double-quoted.
 * @param {string} connectionString
 * @returns {import('pg').PoolConfig}
 */
function parseNpgsqlConnectionString(connectionString) {
  /** @type {Record<string, string>} */
  const settings = {};
  for (const part of connectionString.split(';')) {
    if (!part.trim()) continue;
    const equals = part.indexOf('=');
    if (equals < 0) throw new ConfigurationError(`ConnectionStrings__Database: '${part.trim()}' is not key=value`);
    const key = part.slice(0, equals).trim().toLowerCase().replace(/\s+/g, ' ');
    let value = part.slice(equals + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    settings[key] = value;
  }
  const pick = (...names) => names.map((n) => settings[n]).find((v) => v !== undefined);
  const integer = (value, fallback, name) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new ConfigurationError(`ConnectionStrings__Database: ${name} '${value}' is not a positive integer`);
    return n;
  };
  const config = {
    host: pick('host', 'server', 'data source') ?? 'localhost',
    port: integer(pick('port'), 5432, 'Port'),
    database: pick('database', 'db'),
    user: pick('username', 'user id', 'userid', 'user name', 'user'),
    password: pick('password', 'pwd'),
    max: integer(pick('maximum pool size', 'max pool size', 'maxpoolsize'), 10, 'Maximum Pool Size'),
  };
  // Npgsql's SSL Mode, as far as node-postgres can follow it: it cannot try TLS and fall back, so Prefer and Allow
  // connect as the server accepts a plain connection; Require encrypts, VerifyCA and VerifyFull check the certificate too.
  const sslMode = (pick('ssl mode', 'sslmode') ?? 'prefer').toLowerCase().replace(/[-_]/g, '');
  switch (sslMode) {
    case 'disable': case 'allow': case 'prefer': break;
    case 'require': config.ssl = { rejectUnauthorized: false }; break;
    case 'verifyca': config.ssl = { rejectUnauthorized: true, checkServerIdentity: () => undefined }; break;
    case 'verifyfull': config.ssl = { rejectUnauthorized: true }; break;
    default: throw new ConfigurationError(`ConnectionStrings__Database: SSL Mode '${sslMode}' is not Disable, Allow, Prefer, Require, VerifyCA or VerifyFull`);
  }
  const timeout = pick('timeout');
  if (timeout !== undefined) config.connectionTimeoutMillis = integer(timeout, 15, 'Timeout') * 1000;
  if (!config.database) throw new ConfigurationError('ConnectionStrings__Database names no Database');
  return config;
}

/**
 * `Urls` as ASP.NET Core reads it (the first of a `;` list); `+`, `*` and `[::]` mean every interface.
 * @param {string} urls
 */
function parseUrls(urls) {
  const first = urls.split(';')[0].trim();
  const match = /^http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(first);
  if (!match) throw new ConfigurationError(`Urls: '${urls}' is not http://HOST:PORT`);
  const [, rawHost, port] = match;
  const everywhere = ['+', '*', '0.0.0.0'].includes(rawHost);
  const host = everywhere ? '0.0.0.0' : rawHost === 'localhost' ? '127.0.0.1' : rawHost.replace(/^\[|\]$/g, '');
  return { url: first.replace(/\/$/, ''), host, port: Number(port) };
}

/** `a.b.c.d/n` or `x:y::/n` (a bare address is a /32 or /128). */
function parseCidr(text) {
  const [address, prefix] = text.trim().split('/');
  const family = address.includes(':') ? 'ipv6' : 'ipv4';
  const max = family === 'ipv6' ? 128 : 32;
  const bits = prefix === undefined ? max : Number(prefix);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new ConfigurationError(`'${text}' is not a CIDR network`);
  return { address, prefix: bits, family };
}

function parseBoolean(text, name) {
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw new ConfigurationError(`${name}: '${text}' is not true or false`);
}

/**
 * @typedef {ReturnType<typeof loadConfig>} Config
 */

/**
 * The endpoint's settings from the environment (the same names the .NET endpoints read), with the development
 * defaults taken from the topology, so that Inventory and the topology can never disagree on ports or users.
 * @param {NodeJS.ProcessEnv} env
 * @param {{packageDir?: string, hostname?: string}} [options]
 */
function loadConfig(env, { packageDir = PACKAGE_DIR, hostname = env.HOSTNAME || os.hostname() } = {}) {
  const fromPackage = (value, fallback) => path.resolve(packageDir, value || fallback);
  const topologyFile = fromPackage(env.Conveyor__TopologyFile, '../../deploy/topology.json');
  const topology = loadTopology(topologyFile);
  const self = /** @type {ProcessTopology} */ (topology.processes.find((p) => p.name === ENDPOINT));
  const environment = env.ASPNETCORE_ENVIRONMENT || 'Production';
  const development = environment === 'Development';

  /** A setting, else its development default, else a refusal naming the variable. */
  const required = (name, developmentDefault) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (development) return developmentDefault;
    throw new ConfigurationError(`${name} is not set (ASPNETCORE_ENVIRONMENT is '${environment}'; only Development has defaults)`);
  };

  const database = parseNpgsqlConnectionString(required('ConnectionStrings__Database',
    `Host=127.0.0.1;Port=5432;Database=${self.database};Username=${self.databaseRole};Password=${self.developmentPassword}`));
  const rabbitMqUrl = required('ConnectionStrings__RabbitMq',
    `amqp://${self.brokerUser}:${self.developmentPassword}@127.0.0.1:5672/${encodeURIComponent(topology.vhosts.run)}`);
  let brokerUser;
  try {
    brokerUser = decodeURIComponent(new URL(rabbitMqUrl).username);
  } catch {
    throw new ConfigurationError('ConnectionStrings__RabbitMq is not an amqp:// URI');
  }
  // RabbitMQ refuses a user_id that is not the connection's own user, and receivers trust nothing else.
  if (brokerUser !== self.brokerUser) {
    throw new ConfigurationError(`ConnectionStrings__RabbitMq must connect as broker user '${self.brokerUser}', not '${brokerUser}'`);
  }

  const scrapeNetworks = Object.keys(env)
    .map((key) => /^Conveyor__Telemetry__ScrapeNetworks__(\d+)$/.exec(key))
    .filter(Boolean)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((match) => parseCidr(env[match[0]]));

  const delayedRetries = (env.Conveyor__Recoverability__DelayedRetries ?? '00:00:05,00:00:30,00:02:00')
    .split(',').map((s) => s.trim()).filter(Boolean).map(parseTimeSpan);
  const immediateRetries = Number(env.Conveyor__Recoverability__ImmediateRetries ?? 2);
  if (!Number.isInteger(immediateRetries) || immediateRetries < 0) {
    throw new ConfigurationError(`Conveyor__Recoverability__ImmediateRetries: '${env.Conveyor__Recoverability__ImmediateRetries}' is not a whole number`);
  }
  const managementPort = env.Conveyor__Management__Port ? Number(env.Conveyor__Management__Port) : null;
  if (managementPort !== null && !(Number.isInteger(managementPort) && managementPort > 0 && managementPort < 65536)) {
    throw new ConfigurationError(`Conveyor__Management__Port: '${env.Conveyor__Management__Port}' is not a port`);
  }
  const heartbeatInterval = parseTimeSpan(env.Conveyor__Heartbeats__Interval ?? '00:00:10');
  if (heartbeatInterval <= 0) throw new ConfigurationError('Conveyor__Heartbeats__Interval must be positive');

  return {
    endpoint: ENDPOINT,
    environment,
    development,
    instance: hostname,
    topology,
    self,
    http: parseUrls(required('Urls', `http://127.0.0.1:${self.port}`)),
    // /metrics on a port of its own, which no ingress routes (Hosting/EndpointHealth.cs does the same).
    managementPort,
    database,
    rabbitMqUrl,
    brokerUser,
    recoverability: { immediateRetries, delayedRetries },
    heartbeats: { intervalMs: heartbeatInterval, interval: formatTimeSpan(heartbeatInterval) },
    audit: { enabled: env.Conveyor__Audit__Enabled === undefined ? true : parseBoolean(env.Conveyor__Audit__Enabled, 'Conveyor__Audit__Enabled') },
    telemetry: {
      otlpEndpoint: env.Conveyor__Telemetry__OtlpEndpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT || null,
      scrapeNetworks: scrapeNetworks.length ? scrapeNetworks : [parseCidr('127.0.0.0/8'), parseCidr('::1/128')],
    },
    stockFile: fromPackage(env.Inventory__StockFile, '../../deploy/catalog.json'),
    schemasDirectory: fromPackage(env.Inventory__SchemasDirectory, '../../Messages/schemas'),
    migrationsDirectory: path.join(packageDir, 'migrations'),
  };
}

module.exports = {
  ConfigurationError,
  loadConfig,
  loadTopology,
  parseTimeSpan,
  formatTimeSpan,
  parseNpgsqlConnectionString,
  parseUrls,
  parseCidr,
};
