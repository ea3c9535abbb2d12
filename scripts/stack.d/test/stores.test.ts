// Each store answers real queries through the npm client Nova's code will use.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { Client as Elasticsearch } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { env } from './stack.ts';

const suffix = randomUUID().slice(0, 8);

describe('postgres', () => {
  test('is ours, with logical decoding on', async () => {
    const client = new pg.Client({ connectionString: env('DATABASE_URL') });
    await client.connect();
    try {
      const { rows } = await client.query('SHOW wal_level');
      assert.equal(rows[0].wal_level, 'logical');
      const version = await client.query('SHOW server_version_num');
      assert.ok(Number(version.rows[0].server_version_num) >= 150000);
    } finally {
      await client.end();
    }
  });
});

describe('redis', () => {
  const redis = new Redis(env('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 2 });
  after(() => redis.quit());

  test('sets and reads back with the generated password', async () => {
    await redis.connect();
    const key = `stack:smoke:${suffix}`;
    await redis.set(key, 'ok', 'EX', 60);
    assert.equal(await redis.get(key), 'ok');
  });

  test('refuses a client without the password', async () => {
    const url = new URL(env('REDIS_URL'));
    const anonymous = new Redis({ host: url.hostname, port: Number(url.port), lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await anonymous.connect();
      await assert.rejects(anonymous.ping(), /NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
});

describe('clickhouse', () => {
  const clickhouse = createClient({
    url: env('CLICKHOUSE_URL'),
    username: env('CLICKHOUSE_USER'),
    password: env('CLICKHOUSE_PASSWORD'),
  });
  const table = `stack_smoke_${suffix}`;
  after(async () => {
    await clickhouse.command({ query: `DROP TABLE IF EXISTS ${table}` });
    await clickhouse.close();
  });

  test('ReplacingMergeTree keeps the highest version under FINAL', async () => {
    await clickhouse.command({
      query: `CREATE TABLE ${table} (id UInt64, name String, ver UInt64) ENGINE = ReplacingMergeTree(ver) ORDER BY id`,
    });
    await clickhouse.insert({
      table,
      format: 'JSONEachRow',
      values: [
        { id: 1, name: 'first', ver: 1 },
        { id: 2, name: 'other', ver: 1 },
      ],
    });
    await clickhouse.insert({ table, format: 'JSONEachRow', values: [{ id: 1, name: 'second', ver: 2 }] });
    const result = await clickhouse.query({ query: `SELECT id, name, ver FROM ${table} FINAL ORDER BY id`, format: 'JSONEachRow' });
    assert.deepEqual(await result.json(), [
      { id: '1', name: 'second', ver: '2' },
      { id: '2', name: 'other', ver: '1' },
    ]);
  });
});

describe('elasticsearch', () => {
  const es = new Elasticsearch({ node: env('ELASTICSEARCH_URL') });
  const index = `stack-smoke-${suffix}`;
  after(async () => {
    await es.indices.delete({ index }, { ignore: [404] });
    await es.close();
  });

  test('creates an index, bulk-indexes and searches', async () => {
    await es.indices.create({
      index,
      mappings: { properties: { content: { type: 'text' }, sender_id: { type: 'long' } } },
    });
    const bulk = await es.bulk({
      refresh: true,
      operations: [
        { index: { _index: index, _id: '1' } },
        { content: 'hello nova world', sender_id: 7 },
        { index: { _index: index, _id: '2' } },
        { content: 'something else entirely', sender_id: 8 },
      ],
    });
    assert.equal(bulk.errors, false);
    const found = await es.search<{ content: string; sender_id: number }>({ index, query: { match: { content: 'nova' } } });
    assert.deepEqual(
      found.hits.hits.map((hit) => hit._id),
      ['1'],
    );
  });
});

describe('neo4j', () => {
  const driver = neo4j.driver(env('NEO4J_URL'), neo4j.auth.basic(env('NEO4J_USER'), env('NEO4J_PASSWORD')));
  after(async () => {
    await driver.executeQuery('MATCH (u:StackSmoke {run: $run}) DETACH DELETE u', { run: suffix });
    await driver.close();
  });

  test('MERGE is idempotent and MATCH follows the relationship', async () => {
    for (let i = 0; i < 2; i++) {
      await driver.executeQuery(
        `MERGE (a:StackSmoke {id: 1, run: $run}) MERGE (b:StackSmoke {id: 2, run: $run})
         MERGE (a)-[:FOLLOWS]->(b)`,
        { run: suffix },
      );
    }
    const { records } = await driver.executeQuery(
      'MATCH (a:StackSmoke {run: $run})-[f:FOLLOWS]->(b) RETURN a.id AS a, b.id AS b, count(f) AS n',
      { run: suffix },
    );
    assert.equal(records.length, 1);
    assert.equal(records[0]?.get('a').toNumber(), 1);
    assert.equal(records[0]?.get('b').toNumber(), 2);
    assert.equal(records[0]?.get('n').toNumber(), 1);
  });

  test('refuses a wrong password', async () => {
    const stranger = neo4j.driver(env('NEO4J_URL'), neo4j.auth.basic('neo4j', 'wrong-password'));
    try {
      await assert.rejects(stranger.verifyConnectivity(), /auth|credentials|unauthorized/i);
    } finally {
      await stranger.close();
    }
  });
});
