// The API process: opens PostgreSQL, the views and Kafka (for read-your-writes), serves the
// app on 127.0.0.1:NOVA_API_PORT, and on SIGTERM/SIGINT stops taking requests, lets those in
// flight finish, and closes what it opened.
import { serve } from '@hono/node-server';
import { Kafka, logLevel } from 'kafkajs';
import { openRedis, redisTarget } from '../projectors/redis/client.ts';
import pino from 'pino';
import { novaConfig } from '../config/nova-config.ts';
import { loadConnector } from '../connectors/register.ts';
import { clickhouseProjector } from '../projectors/clickhouse/index.ts';
import { openClickhouseViews } from '../projectors/clickhouse/views.ts';
import { elasticsearchProjector } from '../projectors/elasticsearch/index.ts';
import { openElasticsearchViews } from '../projectors/elasticsearch/views.ts';
import { neo4jProjector } from '../projectors/neo4j/index.ts';
import { openNeo4jViews } from '../projectors/neo4j/views.ts';
import { redisProjector } from '../projectors/redis/index.ts';
import { openRedisViews } from '../projectors/redis/views.ts';
import { createApp } from './app.ts';
import { createWatermarks } from './consistency/watermarks.ts';
import { openPool } from './db.ts';
import type { ApiDeps } from './deps.ts';
import { createApiMetrics } from './http/metrics.ts';
import { pruneIdempotencyKeys } from './http/writes.ts';

export const usage = `Usage: scripts/nova api [--port N]

Runs the Nova API on 127.0.0.1 (NOVA_API_PORT, default 58090; NOVA_API_HOST to bind elsewhere).
Tokens: NOVA_JWT_SECRET (development; \`scripts/nova token <user_id>\` mints one) or
NOVA_JWT_JWKS_URL with NOVA_JWT_ISSUER and NOVA_JWT_AUDIENCE (production).
Health: /healthz, /readyz; metrics: /metrics; OpenAPI: /openapi.json.`;

/** Settles within `ms` or says what did not answer: readiness must never hang. */
const within = <T>(ms: number, what: string, work: Promise<T>) =>
  Promise.race([work.then(() => 'ok'), new Promise<string>((resolve) => setTimeout(() => resolve(`${what}: no answer within ${ms} ms`), ms))]).catch((error: Error) => `${what}: ${error.message}`);

export async function startApi(env: NodeJS.ProcessEnv = process.env, options: { port?: number } = {}) {
  const config = novaConfig(env);
  const log = pino({ base: { process: 'api' } });
  const { host, port: configured } = config.api();
  const port = options.port ?? configured;
  const pool = openPool(config.databaseUrl());
  const redis = openRedisViews(env);
  // queued while connecting, each command bounded by its timeout
  const ephemeral = openRedis(redisTarget(env), { timeoutMs: 1_000, queue: true });
  const neo4j = openNeo4jViews(env);
  const elasticsearch = openElasticsearchViews(env);
  const clickhouse = openClickhouseViews(env);
  const admin = new Kafka({ clientId: 'nova-api', brokers: config.kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const slot = String((await loadConnector()).config['slot.name']);
  const watermarks = createWatermarks({
    // a lasting fault shows here, not only as lagging reads
    onError: (error, step) => log.warn({ err: error, step }, 'a read-your-writes wait could not read its position; retrying until its bound'),
    pool,
    admin,
    slot,
    views: [
      { name: 'redis', topics: redisProjector.topics, checkpoints: redis.checkpoints },
      { name: 'neo4j', topics: neo4jProjector.topics, checkpoints: neo4j.checkpoints },
      { name: 'elasticsearch', topics: elasticsearchProjector.topics, checkpoints: elasticsearch.checkpoints },
      { name: 'clickhouse', topics: clickhouseProjector.topics, checkpoints: clickhouse.checkpoints },
    ],
  });
  const deps: ApiDeps = {
    pool, redis, ephemeral, neo4j, elasticsearch, clickhouse, watermarks, log,
    jwt: config.jwt(),
    streamUrls: config.streamUrls(),
    metrics: createApiMetrics(),
    limits: { writesPerMinute: Number(env.NOVA_API_WRITES_PER_MINUTE ?? 600), maxWaitMs: 10_000, defaultWaitMs: 2_000 },
  };
  const health = {
    async ready() {
      const checks = {
        postgresql: await within(1_000, 'postgresql', pool.query('SELECT 1')),
        redis: await within(1_000, 'redis', redis.read((r) => r.ping())),
        neo4j: await within(1_000, 'neo4j', neo4j.read((s) => s.run('RETURN 1'))),
        elasticsearch: await within(1_000, 'elasticsearch', elasticsearch.client.indices.existsAlias({ name: elasticsearch.alias('messages') }).then((found) => found || Promise.reject(new Error(`no alias ${elasticsearch.alias('messages')}`)))),
        clickhouse: await within(1_000, 'clickhouse', clickhouse.client.ping().then((r) => (r.success ? undefined : Promise.reject(r.error)))),
      };
      return { ok: Object.values(checks).every((c) => c === 'ok'), checks };
    },
  };
  const app = createApp(deps, health);
  const prune = setInterval(() => void pruneIdempotencyKeys(deps).catch((error: unknown) => log.warn({ err: error }, 'idempotency keys not pruned')), 3_600_000);
  prune.unref();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
  });
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  log.info({ url, metrics: `${url}/metrics`, openapi: `${url}/openapi.json` }, 'api listening');
  return {
    url,
    async close() {
      clearInterval(prune);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([pool.end(), redis.close(), neo4j.close(), elasticsearch.close(), clickhouse.close(), admin.disconnect(), Promise.resolve(ephemeral.disconnect())]);
    },
  };
}

export async function run(args: string[]): Promise<number> {
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    console.error(`api: --port is 0..65535\n\n${usage}`);
    return 2;
  }
  const api = await startApi(process.env, { port });
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  await api.close();
  return 0;
}
