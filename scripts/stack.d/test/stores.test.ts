// Each store answers real queries through the npm client Nova's code will use.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { Client as Elasticsearch } from '@elastic/elasticsearch';
import { DataType, MilvusClient } from '@zilliz/milvus2-sdk-node';
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
      // a stopped consumer's slot is invalidated past this, rather than filling the disk
      assert.equal((await client.query('SHOW max_slot_wal_keep_size')).rows[0].max_slot_wal_keep_size, '4GB');
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
    const anonymous = new Redis({
      host: url.hostname,
      port: Number(url.port),
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
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

describe('milvus', () => {
  // milvus-lite does not implement the SDK's telemetry heartbeat
  const milvus = new MilvusClient({ address: env('MILVUS_ADDRESS'), telemetry: { enabled: false } });
  const collection = `stack_smoke_${suffix}`;
  const dim = 256;
  // a unit vector pointing mostly along axis `axis`: cosine similarity picks it out
  const vector = (axis: number) => Array.from({ length: dim }, (_, i) => (i === axis ? 1 : 0.01));
  after(async () => {
    await milvus.dropCollection({ collection_name: collection });
    await milvus.closeConnection();
  });

  test('256-dim HNSW/COSINE collection: upsert, delete, filtered search, query by id', async () => {
    const ok = (status: { error_code?: string | number }) => assert.equal(status.error_code, 'Success');
    ok(
      await milvus.createCollection({
        collection_name: collection,
        consistency_level: 'Strong',
        fields: [
          { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false },
          { name: 'embedding', data_type: DataType.FloatVector, dim },
          { name: 'model_version', data_type: DataType.VarChar, max_length: 50 },
          { name: 'updated_at', data_type: DataType.Int64 },
        ],
      }),
    );
    ok(
      await milvus.createIndex({
        collection_name: collection,
        field_name: 'embedding',
        index_type: 'HNSW',
        metric_type: 'COSINE',
        params: { M: 16, efConstruction: 200 },
      }),
    );
    ok(await milvus.loadCollection({ collection_name: collection }));

    const row = (id: number, axis: number, model_version: string) => ({ id, embedding: vector(axis), model_version, updated_at: id });
    ok((await milvus.upsert({ collection_name: collection, data: [row(1, 1, 'v1'), row(2, 2, 'v1'), row(3, 3, 'v2')] })).status);
    // upsert replaces: row 2 moves to axis 9 and model v2
    ok((await milvus.upsert({ collection_name: collection, data: [row(2, 9, 'v2')] })).status);
    ok((await milvus.delete({ collection_name: collection, ids: [1] })).status);

    const byId = await milvus.query({ collection_name: collection, filter: 'id in [1, 2, 3]', output_fields: ['id', 'model_version'] });
    assert.deepEqual(
      byId.data.map((r) => [String(r.id), r.model_version]).sort(),
      [
        ['2', 'v2'],
        ['3', 'v2'],
      ],
    );

    const hits = await milvus.search({
      collection_name: collection,
      data: [vector(9)],
      filter: 'model_version == "v2"',
      limit: 2,
      output_fields: ['id'],
    });
    assert.deepEqual(
      hits.results.map((hit) => String(hit.id)),
      ['2', '3'],
    );
    assert.ok(Number(hits.results[0]?.score) > 0.9, 'the nearest vector comes first');
  });
});
