// Issue 8 item 1, reproduced on the real stack and checked in every store: a transaction that
// begins while a new replication slot waits for older transactions, writes before the slot is
// consistent and commits after it, is not in the initial snapshot but is streamed after it,
// with change LSNs below the snapshot's. A throwaway connector (its own slot and topics, its
// snapshot narrowed to this file's rows) snapshots five tables while the test holds three
// transactions in the order the issue gives, each step waiting for the slot to wait on the
// next transaction (pg_locks), not for time. Each store's projector then reads the throwaway
// topics into a generation of its own, and readers must see T2's values.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { connectorStatus, putConnectorConfig } from '../../connectors/connect-rest.ts';
import { loadConnector } from '../../connectors/register.ts';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { clickhouseClient, clickhouseProjector, currentStateQuery, userBehaviorEvents } from '../clickhouse/index.ts';
import { actualFromElasticsearch } from '../elasticsearch/drift.ts';
import { elasticsearchProjector } from '../elasticsearch/index.ts';
import { connectMilvus, milvusProjector } from '../milvus/index.ts';
import { readerView as milvusView } from '../milvus/test/oracle.ts';
import neo4j from 'neo4j-driver';
import { connectNeo4j, neo4jProjector } from '../neo4j/index.ts';
import { pairKey, readerView as graphView } from '../neo4j/reader-view.ts';
import { redisProjector } from '../redis/index.ts';
import { seenKey } from '../redis/sink.ts';
import { claimGeneration, type OwnGeneration } from '../redis/test/own-generation.ts';
import { versionText, type RawRecord } from './decode/index.ts';
import type { ProjectorDefinition } from './sink.ts';
import { decode } from './testing/cdc-capture.ts';
import { decodeWithWriter } from './testing/exact-longs.ts';
import { removeThrowaway, throwawayConfig } from './testing/throwaway-connector.ts';
import { runInProcess, type InProcessProjector } from './testing/in-process.ts';
import { captureTopics } from './testing/kafka-capture.ts';

const run = randomUUID().slice(0, 8);
const connector = `nova-snapshot-point-${run}`;
const slot = `nova_snapshot_point_${run}`;
const prefix = `nova_snapshot_point_${run}`;
const novaTopics: Record<string, string> = {
  posts: 'nova.social.posts',
  users: 'nova.social.users',
  follows: 'nova.social.follows',
  user_interactions: 'nova.user.user_interactions',
  user_embeddings: 'nova.recommendation.user_embeddings',
};
const topicOf = (table: string) => `${prefix}.${table}`;
const readerTopic = (topic: string) => novaTopics[topic.slice(prefix.length + 1)] ?? topic;
const connectUrl = env('KAFKA_CONNECT_URL');
const kafka = new Kafka({ clientId: prefix, brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
const [db, t0, t1, t2] = [0, 1, 2, 3].map(() => new pg.Client({ connectionString: env('DATABASE_URL') })) as [pg.Client, pg.Client, pg.Client, pg.Client];
const projectors: InProcessProjector<unknown>[] = [];
const dropped: Array<() => Promise<void>> = [];
let redisDatabase: OwnGeneration | undefined;
type Ids = { author: number; follower: number; followee: number; post: number; follow: number; interaction: number };
let ids: Ids;

const vector = (x: number) => `{${Array.from({ length: 256 }, (_, i) => (i === 0 ? x : 0.5)).join(',')}}`;

async function seed(): Promise<Ids> {
  const one = async (sql: string, params: unknown[]) => Number((await db.query(sql, params)).rows[0].id);
  const author = await one(`INSERT INTO users (username, bio) VALUES ($1, 'before') RETURNING id`, [`sp-author-${run}`]);
  const follower = await one(`INSERT INTO users (username, bio) VALUES ($1, 'before') RETURNING id`, [`sp-follower-${run}`]);
  const followee = author;
  const post = await one(`INSERT INTO posts (author_id, text) VALUES ($1, 'before') RETURNING id`, [author]);
  const follow = await one(`INSERT INTO follows (follower_id, followee_id, status) VALUES ($1, $2, 'active') RETURNING id`, [follower, followee]);
  const interaction = await one(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type) VALUES ($1, 'post', $2, 'before') RETURNING id`, [follower, post]);
  await db.query(`INSERT INTO user_embeddings (user_id, embedding, model_version) VALUES ($1, $2, 'before')`, [author, vector(0.25)]);
  return { author, follower, followee, post, follow, interaction };
}

/** nova-postgres narrowed to this file's rows: its own slot and topics, an initial snapshot of just them. */
async function throwawayConnectorConfig(): Promise<Record<string, string>> {
  const { config } = await loadConnector();
  const only: Record<string, string> = {
    posts: `id = ${ids.post}`,
    users: `id IN (${ids.author}, ${ids.follower})`,
    follows: `id = ${ids.follow}`,
    user_interactions: `id = ${ids.interaction}`,
    user_embeddings: `user_id = ${ids.author}`,
  };
  return throwawayConfig(connector, slot, {
    'snapshot.mode': 'initial',
    'table.include.list': Object.keys(only).map((t) => `public.${t}`).join(','),
    'snapshot.select.statement.overrides': Object.keys(only).map((t) => `public.${t}`).join(','),
    ...Object.fromEntries(Object.entries(only).map(([t, where]) => [`snapshot.select.statement.overrides.public.${t}`, `SELECT * FROM public.${t} WHERE ${where}`])),
    transforms: 'keepNulls,route',
    'transforms.keepNulls.type': config['transforms.keepNulls.type'] as string,
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': 'nova\\.public\\.(.*)',
    'transforms.route.replacement': `${prefix}.$1`,
  });
}

/** Until the slot's walsender waits for transaction `xid` to finish (it does while the slot is not consistent yet). */
const slotWaitsFor = (xid: string) =>
  waitFor(`the new slot to wait for transaction ${xid}`, async () => {
    const { rows } = await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'transactionid' AND transactionid::text = $1 AND NOT granted`, [xid]);
    return rows.length > 0 ? true : undefined;
  }, 120_000);

before(async () => {
  await Promise.all([db, t0, t1, t2].map((c) => c.connect()));
  ids = await seed();
});

after(async () => {
  for (const p of projectors) await p.close();
  for (const drop of dropped) await drop().catch(() => {});
  await redisDatabase?.release();
  await removeThrowaway(connector, slot, Object.keys(novaTopics).map(topicOf));
  for (const c of [t0, t1, t2]) await c.query('ROLLBACK').catch(() => {});
  await Promise.all([db, t0, t1, t2].map((c) => c.end()));
});

const raw: RawRecord[] = [];

/** A record's source.lsn as Debezium wrote it (the decoder gives snapshot reads version 0 instead). */
const sourceLsn = async (record: RawRecord) => ((await decodeWithWriter(env('SCHEMA_REGISTRY_URL'), record)).value as { source: { lsn: bigint } }).source.lsn;

/** The changes on the throwaway topics so far, decoded as Nova decodes the real ones, until `done`. */
async function captured(done: (changes: Awaited<ReturnType<typeof decode>>[]) => boolean) {
  // Connect creates each topic with its first record
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor('the throwaway topics', async () => {
      const task = (await connectorStatus(connectUrl, connector)).tasks[0];
      if (task?.state === 'FAILED') throw new Error(`the throwaway connector failed: ${task.trace}`);
      const existing = new Set(await admin.listTopics());
      return Object.keys(novaTopics).every((t) => existing.has(topicOf(t))) ? true : undefined;
    }, 180_000);
  } finally {
    await admin.disconnect();
  }
  const decoded: Awaited<ReturnType<typeof decode>>[] = [];
  raw.length = 0;
  await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics: Object.keys(novaTopics).map(topicOf),
    timeoutMs: 180_000,
    until: async (records) => {
      decoded.length = 0;
      raw.length = 0;
      for (const r of records) {
        decoded.push(await decode({ ...r, schemaTopic: readerTopic(r.topic) }));
        raw.push(r);
      }
      return done(decoded);
    },
  });
  return decoded;
}

async function project<Op>(definition: ProjectorDefinition<Op>, generation: number, tables: string[]) {
  const projector = await runInProcess({ definition, generation, topics: tables.map(topicOf), readerTopic });
  projectors.push(projector as InProcessProjector<unknown>);
  return projector;
}

async function caughtUp(projector: InProcessProjector<unknown>, tables: string[]) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, string>();
    for (const table of tables) for (const o of await admin.fetchTopicOffsets(topicOf(table))) ends.set(`${topicOf(table)}:${o.partition}`, o.high);
    await waitFor(`${projector.name} to apply the throwaway topics`, async () => {
      const at = new Map((await projector.sink.load()).map((c) => [`${c.topic}:${c.partition}`, c.nextOffset]));
      return [...ends].every(([key, end]) => end === '0' || at.get(key) === end) ? true : undefined;
    }, 120_000);
  } finally {
    await admin.disconnect();
  }
}

test('a transaction that commits after the snapshot point wins over the snapshot read in every store, though its LSNs are below the snapshot', { timeout: 600_000 }, async () => {
  // T0 is open when the connector (and its slot) is created: the slot waits for it
  await t0.query('BEGIN');
  const x0 = (await t0.query('SELECT txid_current()::text AS xid')).rows[0].xid;
  await putConnectorConfig(connectUrl, connector, await throwawayConnectorConfig());
  await slotWaitsFor(x0);
  // T1 begins while the slot waits for T0
  await t1.query('BEGIN');
  const x1 = (await t1.query('SELECT txid_current()::text AS xid')).rows[0].xid;
  await t0.query('COMMIT');
  await slotWaitsFor(x1);
  // T2 begins now and writes every row, before the slot is consistent
  await t2.query('BEGIN');
  await t2.query(`UPDATE posts SET text = 't2-final' WHERE id = $1`, [ids.post]);
  await t2.query(`UPDATE users SET bio = 't2-final' WHERE id = $1`, [ids.follower]);
  await t2.query(`UPDATE follows SET status = 'blocked' WHERE id = $1`, [ids.follow]);
  await t2.query(`UPDATE user_interactions SET interaction_type = 't2-final' WHERE id = $1`, [ids.interaction]);
  await t2.query(`UPDATE user_embeddings SET model_version = 't2-final' WHERE user_id = $1`, [ids.author]);
  await t1.query('COMMIT');
  // the snapshot is read without T2 (uncommitted); only then does T2 commit
  const tables = Object.keys(novaTopics);
  await captured((changes) => tables.every((t) => changes.some((c) => c.kind === 'change' && c.op === 'read' && c.table === `public.${t}`)));
  await t2.query('COMMIT');
  const changes = await captured((cs) => cs.filter((c) => c.kind === 'change' && c.op === 'update').length >= tables.length);
  const updates = changes.filter((c) => c.kind === 'change' && c.op === 'update');
  // the case the issue describes: the snapshot read first, T2's change after it, at a lower LSN
  for (const c of updates) {
    if (c.kind !== 'change') continue;
    const i = changes.findIndex((r) => r.kind === 'change' && r.op === 'read' && r.table === c.table && JSON.stringify(r.key) === JSON.stringify(c.key));
    const read = changes[i];
    assert.ok(read && BigInt(read.position.offset) < BigInt(c.position.offset), `${c.table}: the snapshot read precedes T2's change in the partition`);
    const snapshotLsn = await sourceLsn(raw[i] as RawRecord);
    assert.ok(c.version < snapshotLsn, `${c.table}: T2's change LSN ${c.version} is below the snapshot read's ${snapshotLsn}`);
  }
  const status = await connectorStatus(connectUrl, connector);
  assert.equal(status.tasks[0]?.state, 'RUNNING');

  const generation = () => randomInt(1_000_000_000, 2_000_000_000);
  // Elasticsearch: posts and users
  const esGeneration = generation();
  dropped.push(() => elasticsearchProjector.generations?.drop(esGeneration, process.env) ?? Promise.resolve());
  const es = await project(elasticsearchProjector, esGeneration, ['posts', 'users']);
  // ClickHouse: user_interactions
  const chGeneration = generation();
  dropped.push(() => clickhouseProjector.generations?.drop(chGeneration, process.env) ?? Promise.resolve());
  const chProjector = await project(clickhouseProjector, chGeneration, ['user_interactions']);
  // Neo4j: users and follows
  const graphGeneration = generation();
  dropped.push(() => neo4jProjector.generations?.drop(graphGeneration, process.env) ?? Promise.resolve());
  const graph = await project(neo4jProjector, graphGeneration, ['users', 'follows']);
  // Milvus: user_embeddings
  const milvusGeneration = generation();
  dropped.push(() => milvusProjector.generations?.drop(milvusGeneration, process.env) ?? Promise.resolve());
  const vectors = await project(milvusProjector, milvusGeneration, ['user_embeddings']);
  // Redis: follows, in a database of this file's own
  redisDatabase = await claimGeneration(process.env);
  const redis = await project(redisProjector, redisDatabase.generation, ['follows']);

  await caughtUp(es as InProcessProjector<unknown>, ['posts', 'users']);
  await caughtUp(chProjector as InProcessProjector<unknown>, ['user_interactions']);
  await caughtUp(graph as InProcessProjector<unknown>, ['users', 'follows']);
  await caughtUp(vectors as InProcessProjector<unknown>, ['user_embeddings']);
  await caughtUp(redis as InProcessProjector<unknown>, ['follows']);

  const esClient = new Client({ node: env('ELASTICSEARCH_URL') });
  try {
    await esClient.indices.refresh({ index: `posts_v${esGeneration},users_v${esGeneration}` });
    const { view } = await actualFromElasticsearch(esClient, esGeneration, { posts: new Set([String(ids.post)]), users: new Set([String(ids.follower)]) });
    assert.equal(view.posts.get(String(ids.post))?.['text'], 't2-final', 'elasticsearch posts');
    assert.equal(view.users.get(String(ids.follower))?.['bio'], 't2-final', 'elasticsearch users');
  } finally {
    await esClient.close();
  }

  const ch = clickhouseClient(process.env);
  try {
    const rows = await (await ch.query({ query: `SELECT toString(id) AS id, interaction_type FROM (${currentStateQuery(userBehaviorEvents, chGeneration)})`, format: 'JSONEachRow' })).json<{ id: string; interaction_type: string }>();
    assert.deepEqual(rows, [{ id: String(ids.interaction), interaction_type: 't2-final' }], 'clickhouse');
  } finally {
    await ch.close();
  }

  const driver = connectNeo4j(process.env);
  try {
    const view = await graphView(driver, graphGeneration);
    assert.equal(view.User.get(String(ids.follower))?.['bio'], 't2-final', 'neo4j users');
    assert.equal(view.FOLLOWS.has(pairKey(ids.follower, ids.followee)), false, 'neo4j: the blocked follow is no FOLLOWS');
    const session = driver.session();
    try {
      const { records } = await session.run(`MATCH (a:User_g${graphGeneration} {id: $a})-[r:FOLLOWS_TOMBSTONE]->(b:User_g${graphGeneration} {id: $b}) RETURN count(r) AS n`, { a: neo4j.int(ids.follower), b: neo4j.int(ids.followee) });
      assert.equal(Number(records[0]?.get('n')), 1, 'neo4j: the pair holds T2 (a tombstone), not nothing');
    } finally {
      await session.close();
    }
  } finally {
    await driver.close();
  }

  const milvus = await connectMilvus(env('MILVUS_ADDRESS'));
  try {
    const view = await milvusView(milvus, milvusGeneration);
    assert.deepEqual(view.user_embeddings.map((r) => (r as Record<string, unknown>)['model_version']), ['t2-final'], 'milvus');
  } finally {
    await milvus.closeConnection();
  }

  const own = redisDatabase as OwnGeneration;
  assert.deepEqual(await own.redis.smembers(own.keys.following(ids.follower)), [], 'redis: the blocked follow is no follower');
  const follows = updates.find((c) => c.kind === 'change' && c.table === 'public.follows');
  // a follow not active is not held (bounded rows), so what shows T2 was processed is the
  // follower's slot's high mark for the partition: T2's (commit order, version)
  const source = follows?.kind === 'change' ? `${follows.position.topic}:${follows.position.partition}` : 'none';
  const seen = (await own.redis.hget(own.key(seenKey(String(ids.follower))), source)) ?? '';
  assert.equal(seen.slice(seen.indexOf('|') + 1), follows?.kind === 'change' ? versionText(follows.commitOrder) + versionText(follows.version) : 'none', 'redis processed T2 for the row, not nothing');
  assert.deepEqual(await own.redis.smembers(own.keys.followers(ids.followee)), [], 'redis followers');
});
