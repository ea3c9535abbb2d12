// scripts/stack's promises: `up` twice is a no-op, `down` stops what it started,
// and `up` afterwards brings every server back healthy with its data.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { Client as Elasticsearch } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { env, stack } from './stack.ts';

type Row = { service: string; version: string; address: string; pid: string; healthy: string };

function parseStatus(table: string): Row[] {
  return table
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [service = '', version = '', address = '', pid = '', healthy = ''] = line.trim().split(/\s+/);
      return { service, version, address, pid, healthy };
    });
}

async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: env('DATABASE_URL') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(env('REDIS_URL'));
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

async function withClickhouse<T>(fn: (ch: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const ch = createClient({ url: env('CLICKHOUSE_URL'), username: env('CLICKHOUSE_USER'), password: env('CLICKHOUSE_PASSWORD') });
  try {
    return await fn(ch);
  } finally {
    await ch.close();
  }
}

async function withNeo4j<T>(fn: (driver: neo4j.Driver) => Promise<T>): Promise<T> {
  const driver = neo4j.driver(env('NEO4J_URL'), neo4j.auth.basic(env('NEO4J_USER'), env('NEO4J_PASSWORD')));
  try {
    return await fn(driver);
  } finally {
    await driver.close();
  }
}

test('up twice is a no-op; down then up keeps every store healthy with its data', { timeout: 600_000 }, async () => {
  const first = parseStatus(await stack('status'));
  assert.ok(first.length >= 9, 'status lists every service');
  for (const row of first) assert.equal(row.healthy, 'yes', `${row.service} healthy before the test`);

  const again = parseStatus(await stack('up'));
  assert.deepEqual(
    again.map((r) => [r.service, r.pid]),
    first.map((r) => [r.service, r.pid]),
    'a second up starts nothing',
  );

  const mark = randomUUID();
  const es = new Elasticsearch({ node: env('ELASTICSEARCH_URL') });
  await withPg(async (db) => {
    await db.query('CREATE TABLE IF NOT EXISTS stack_lifecycle (mark text PRIMARY KEY)');
    await db.query('INSERT INTO stack_lifecycle VALUES ($1)', [mark]);
  });
  await withRedis((redis) => redis.set(`stack:lifecycle:${mark}`, mark));
  await withClickhouse(async (ch) => {
    await ch.command({ query: 'CREATE TABLE IF NOT EXISTS stack_lifecycle (mark String) ENGINE = MergeTree ORDER BY mark' });
    await ch.insert({ table: 'stack_lifecycle', format: 'JSONEachRow', values: [{ mark }] });
  });
  await es.index({ index: 'stack-lifecycle', id: mark, document: { mark }, refresh: true });
  await withNeo4j((driver) => driver.executeQuery('CREATE (:StackLifecycle {mark: $mark})', { mark }));

  await stack('down');
  await assert.rejects(stack('status'), 'status exits non-zero while servers are down');

  const back = parseStatus(await stack('up'));
  for (const row of back) assert.equal(row.healthy, 'yes', `${row.service} healthy after down and up`);

  await withPg(async (db) => {
    const { rowCount } = await db.query('SELECT 1 FROM stack_lifecycle WHERE mark = $1', [mark]);
    assert.equal(rowCount, 1, 'postgres kept its row');
  });
  assert.equal(await withRedis((redis) => redis.get(`stack:lifecycle:${mark}`)), mark, 'redis kept its key');
  const chMarks = await withClickhouse(async (ch) => {
    const res = await ch.query({ query: 'SELECT mark FROM stack_lifecycle', format: 'JSONEachRow' });
    return (await res.json<{ mark: string }>()).map((row) => row.mark);
  });
  assert.ok(chMarks.includes(mark), 'clickhouse kept its row');
  const doc = await es.get<{ mark: string }>({ index: 'stack-lifecycle', id: mark });
  assert.equal(doc._source?.mark, mark, 'elasticsearch kept its document');
  await es.close();
  const nodes = await withNeo4j((driver) =>
    driver.executeQuery('MATCH (n:StackLifecycle {mark: $mark}) RETURN count(n) AS n', { mark }),
  );
  assert.equal(nodes.records[0]?.get('n').toNumber(), 1, 'neo4j kept its node');
});
