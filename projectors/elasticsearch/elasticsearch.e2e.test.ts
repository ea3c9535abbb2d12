// The Elasticsearch projector end to end, as the real process, against the real servers: a
// mixed workload while the projector is kill -9ed and restarted; then every document of the
// generation must equal what PostgreSQL says. Also: a replay from the earliest offset leaves
// _source and _version identical; Elasticsearch stopped and started again mid-run is retried
// through by the same process; a burst of updates to one row ends at the last value.
// Each test fills a generation of its own (100-999), removed afterwards with its checkpoints;
// the first from the earliest offset, compared whole, the later ones from the partitions' ends.
// A row some other writer (a benchmark) changes while it is compared is compared again once
// the projector has caught up; the run is slower beside one, but not wrong.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import pg from 'pg';
import { env, stack, waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { CheckpointStore, Sink } from '../runtime/sink.ts';
import { applied, caughtUp as caughtUpWithPostgres, endOffsets } from '../runtime/testing/caught-up.ts';
import { kill9, outputTail, type ProjectorProcess, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';
import { checkpointId, checkpointIndex, loadCheckpoints } from './checkpoint.ts';
import { aliasNames, elasticsearchProjector, indexName, type EsOp } from './index.ts';
import { actualFromElasticsearch, differences, expectedFromPostgres, idsIn, idsOf, mergeIds, snapshotDifferences, summary, type Ids, type Problem } from './test/oracle.ts';
import { runSearchWorkload, type SearchWorkloadResult } from './test/workload.ts';

const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const es = new Client({ node: env('ELASTICSEARCH_URL') });
const admin: Admin = new Kafka({ clientId: 'nova-elasticsearch-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
const { name, topics } = elasticsearchProjector;
/** every generation a test used, with the projector's own checkpoint store for it */
const generations = new Map<number, Sink<EsOp> & CheckpointStore>();
let projector: ProjectorProcess | undefined;

before(async () => {
  await Promise.all([db.connect(), admin.connect()]);
});

after(async () => {
  if (projector) await stopProjector(projector);
  for (const [generation, store] of generations) {
    for (const c of await store.load().catch(() => [])) {
      await es.delete({ index: checkpointIndex, id: checkpointId({ projector: name, generation }, c.topic, c.partition) }, { ignore: [404] });
    }
    await store.close();
  }
  await es.indices.delete({ index: [...generations.keys()].flatMap((g) => aliasNames.map((a) => indexName(a, g))), ignore_unavailable: true });
  // the consumer groups go too; a kill -9ed member holds its group until its session expires (10 s)
  const groups = [...generations.keys()].map((g) => `nova-projector-${name}-g${g}`);
  await waitFor('the test consumer groups to be deleted', async () => {
    const left = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const ours = groups.filter((g) => left.has(g));
    if (ours.length > 0) await admin.deleteGroups(ours);
    return true;
  }, 30_000).catch(() => {}); // a leftover group is harmless: only this generation's projector uses it
  await Promise.all([db.end(), admin.disconnect(), es.close()]);
});

/**
 * A generation no index uses yet, and the projector's own checkpoint store for it. From 'end',
 * its checkpoints are first written at every partition's end (through the projector's sink, a
 * batch of no ops): its projector then reads only what is written from now on, not the history.
 */
async function freshGeneration(from: 'earliest' | 'end' = 'earliest'): Promise<[number, CheckpointStore]> {
  for (;;) {
    const generation = randomInt(100, 1000);
    if (generations.has(generation) || (await es.indices.exists({ index: indexName('messages', generation) }))) continue;
    if ((await loadCheckpoints(es, { projector: name, generation })).length > 0) continue; // left by a run that died
    const store = await elasticsearchProjector.createSink({ generation, env: process.env });
    generations.set(generation, store);
    if (from === 'end') {
      for (const topic of topics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
          await store.apply([], [{ topic, partition, nextOffset: high, commitOrder: null }], async () => {});
        }
      }
    }
    return [generation, store];
  }
}

const start = (generation: number) => startProjector(name, ['--generation', String(generation), '--shadow', '--max-batch', '500']);

const logTail = (lines = 15) => outputTail(projector, lines);

const sum = (ends: Map<string, bigint>) => [...ends.values()].reduce((a, b) => a + b, 0n);

/** For a failure message: whether a writer outside this file was active during the comparison. */
const writersNote = async (since: bigint) => {
  const grown = sum(await endOffsets(admin, topics)) - since;
  return grown > 0n ? `\n(the topics grew by ${grown} records during the comparison: another writer was active)` : '';
};

/** Until the generation holds everything committed so far (Debezium, then the store's checkpoints). */
const caughtUp = (store: CheckpointStore, timeoutMs = 240_000) => caughtUpWithPostgres({ db, admin, store, topics, log: logTail, timeoutMs });

/**
 * The documents (all, or those of `only`) that differ from PostgreSQL once the projector has
 * caught up. One that differs is compared again, alone, each time the projector has caught up
 * anew, until it matches or 30 s pass: Debezium may publish the last commits a moment after the
 * end offsets were read, and a writer outside this file may change a row between the two reads.
 * What a projector bug breaks stays different.
 */
async function mismatches(generation: number, store: CheckpointStore, workload?: SearchWorkloadResult, only?: Ids): Promise<Problem[]> {
  const [deleted, flagged] = [workload?.deletedMessages, workload?.otherMessageIds];
  await caughtUp(store);
  let problems = differences(await expectedFromPostgres(db, deleted, only), (await actualFromElasticsearch(es, generation, only)).view, flagged, only);
  await waitFor('the differing documents to match PostgreSQL', async () => {
    if (problems.length === 0) return true;
    const again = idsOf(problems);
    await caughtUp(store, 10_000);
    problems = differences(await expectedFromPostgres(db, deleted, again), (await actualFromElasticsearch(es, generation, again)).view, flagged, again);
    return problems.length === 0 ? true : undefined;
  }, 30_000).catch(() => {});
  return problems;
}

/**
 * Every document equals PostgreSQL, and so does every row PostgreSQL has. For a generation
 * that started at the end, `only: 'index and workload'`: its documents and the rows the
 * workload wrote (the rest of the tables was never meant to be there).
 */
async function assertMatchesPostgres(generation: number, store: CheckpointStore, workload?: SearchWorkloadResult, only: 'all' | 'index and workload' = 'all') {
  await caughtUp(store);
  const ends = sum(await endOffsets(admin, topics));
  const scope = only === 'all' ? undefined : mergeIds(workload?.touched ?? {}, idsIn((await actualFromElasticsearch(es, generation)).view));
  const problems = await mismatches(generation, store, workload, scope);
  assert.ok(problems.length === 0, `generation ${generation} differs from PostgreSQL: ${summary(problems)}${await writersNote(ends)}`);
}

let g1: number;
let store1: CheckpointStore;
let workload1: SearchWorkloadResult | undefined;

test('20,000 writes with six kill -9s: every document equals what PostgreSQL says', { timeout: 600_000 }, async (t) => {
  [g1, store1] = await freshGeneration();
  t.after(() => t.diagnostic(`generation ${g1}; last projector output:\n${logTail(5)}`));
  projector = start(g1);
  let startedAt = 0n;
  const kills: string[] = [];
  const started = Date.now();
  const workload = await runSearchWorkload(db, {
    statements: 20_000,
    tag: `es-${randomUUID().slice(0, 8)}`,
    onProgress: async (done) => {
      if (kills.length >= 6 || done < (kills.length + 1) * 3_000) return;
      // kill a process that is working: one that has applied a batch since it started (a
      // restart first waits out the dead member's session, ~10 s, to get its partitions)
      await waitFor('the restarted projector to apply a batch', async () => ((await applied(store1)) > startedAt ? true : undefined), 60_000);
      await kill9(projector as ProjectorProcess);
      startedAt = await applied(store1);
      kills.push(`statement ${done} at ${((Date.now() - started) / 1000).toFixed(1)} s, ${startedAt} records applied`);
      projector = start(g1);
    },
  });
  t.diagnostic(`kills: ${kills.join('; ')}`);
  assert.equal(kills.length, 6);
  workload1 = workload;
  await assertMatchesPostgres(g1, store1, workload);
});

test('a replay from the earliest offset into the same generation: identical _source and _version', { timeout: 300_000 }, async (t) => {
  assert.ok(g1, 'needs the first test’s generation');
  await kill9(projector as ProjectorProcess);
  const ends = await endOffsets(admin, topics);
  const beforeReplay = await actualFromElasticsearch(es, g1);
  for (const c of await store1.load()) await es.delete({ index: checkpointIndex, id: checkpointId({ projector: name, generation: g1 }, c.topic, c.partition) });
  assert.deepEqual(await store1.load(), [], 'no checkpoint left: the projector starts at the earliest offset');
  projector = start(g1);
  await caughtUp(store1);
  assert.match(projector.output.join(''), /"checkpoints":\[\]/, 'the restarted projector resumed from no checkpoint');
  const changed = snapshotDifferences(beforeReplay, await actualFromElasticsearch(es, g1));
  const grown = sum(await endOffsets(admin, topics)) - sum(ends);
  if (grown === 0n) {
    assert.ok(changed.length === 0, `the replay changed documents: ${summary(changed)}`);
    return;
  }
  // Written meanwhile by someone else: a change the replay is not the cause of carries a newer
  // version (or is a new or deleted row) and agrees with PostgreSQL; the replay's own does not.
  t.diagnostic(`the topics grew by ${grown} records during the replay; ${changed.length} documents changed with them`);
  const replayed = changed.filter((p) => !p.newer);
  assert.ok(replayed.length === 0, `the replay changed documents: ${summary(replayed)}`);
  const problems = changed.length === 0 ? [] : await mismatches(g1, store1, workload1, idsOf(changed));
  assert.ok(problems.length === 0, `documents changed during the replay differ from PostgreSQL: ${summary(problems)}`);
});

test('Elasticsearch stopped and started mid-run: the same process retries, resumes and converges', { timeout: 300_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  // from the end: the history was checked whole by the first test, and reading it again would
  // only make this one slower
  const [generation, store] = await freshGeneration('end');
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail(5)}`));
  const seeded = await applied(store);
  projector = start(generation);
  const { pid } = projector.child;
  let restarted: Promise<string> | undefined;
  let downFor = 0;
  const workload = await runSearchWorkload(db, {
    statements: 6_000,
    tag: `es-${randomUUID().slice(0, 8)}`,
    onProgress: async (done) => {
      if (done === 1_000) {
        await waitFor('the projector to apply a batch', async () => ((await applied(store)) > seeded ? true : undefined), 60_000);
        await stack('down', 'elasticsearch');
        downFor = Date.now();
      }
      // writes go on while it starts again (10-20 s); the test waits for it after the workload
      if (done === 3_000) restarted = stack('up', 'elasticsearch');
    },
  });
  assert.ok(restarted, 'Elasticsearch was started again');
  await restarted;
  t.diagnostic(`Elasticsearch was down for ${((Date.now() - downFor) / 1000).toFixed(1)} s`);
  await assertMatchesPostgres(generation, store, workload, 'index and workload');
  assert.equal(projector.child.pid, pid);
  assert.equal(projector.child.exitCode, null, `the projector exited:\n${logTail()}`);
  assert.equal(projector.child.signalCode, null);
  const output = projector.output.join('');
  const count = (pattern: RegExp) => output.match(pattern)?.length ?? 0;
  assert.ok(count(/transient failure, retrying/g) > 0, 'the projector saw the outage and retried');
  // no heartbeat is sent while a batch is retried, so an outage longer than the session
  // (10 s) drops the member from its group; it rejoins when the batch is through
  t.diagnostic(`sink retries logged: ${count(/transient failure, retrying/g)}; Kafka commits refused because the group dropped the member: ${count(/kafka offset commit failed/g)}`);
});

test('1,000 updates to one posts row in a burst: the document ends with the last value', { timeout: 120_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  const [generation, store] = await freshGeneration('end');
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail(5)}`));
  projector = start(generation);
  const author = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`es-burst-${randomUUID().slice(0, 8)}`])).rows[0].id;
  const post = (await db.query(`INSERT INTO posts (author_id, text) VALUES ($1, 'start') RETURNING id`, [author])).rows[0].id;
  // the projector is consuming once the row is in the index: the burst then meets it live
  assert.deepEqual(await mismatches(generation, store, undefined, { posts: new Set([String(post)]) }), []);
  // one commit each, back to back: the projector meets them across several batches
  await Promise.all(Array.from({ length: 1_000 }, (_, i) => db.query(`UPDATE posts SET text = $2 WHERE id = $1`, [post, `burst ${i}`])));
  // and 1,000 in one transaction: one commit, a distinct LSN per change
  const inOne = (await db.query(`INSERT INTO posts (author_id, text) VALUES ($1, 'start') RETURNING id`, [author])).rows[0].id;
  await db.query('BEGIN');
  for (let i = 0; i < 1_000; i++) await db.query(`UPDATE posts SET text = $2 WHERE id = $1`, [inOne, `in one ${i}`]);
  await db.query('COMMIT');
  const only = { posts: new Set([String(post), String(inOne)]) };
  const problems = await mismatches(generation, store, undefined, only);
  assert.ok(problems.length === 0, summary(problems));
  const { view } = await actualFromElasticsearch(es, generation, only);
  assert.deepEqual([post, inOne].map((id) => view.posts.get(String(id))?.['text']), ['burst 999', 'in one 999']);
});

// Found by the first test: `message_type = NULL` used to reach the index as 'text' (Kafka
// Connect substituted the column DEFAULT); connectors/transforms' DropNullableDefaults fixes it.
test('an explicit NULL in a column with a DEFAULT reaches the index as NULL', { timeout: 120_000 }, async () => {
  if (projector) await stopProjector(projector);
  const [generation] = await freshGeneration('end');
  projector = start(generation);
  const tag = `es-null-${randomUUID().slice(0, 8)}`;
  const [a, b] = (await db.query(`INSERT INTO users (username) VALUES ($1), ($2) RETURNING id`, [`${tag}-a`, `${tag}-b`])).rows.map((r) => r.id);
  const conversation = (await db.query(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id`, [a, b])).rows[0].id;
  const message = (await db.query(`INSERT INTO messages (conversation_id, sender_id, content, message_type, is_deleted) VALUES ($1, $2, 'null type', NULL, NULL) RETURNING id`, [conversation, a])).rows[0].id;
  const doc = await waitFor('the message in the index', async () => {
    await es.indices.refresh({ index: indexName('messages', generation) });
    const found = await es.get<Record<string, unknown>>({ index: indexName('messages', generation), id: String(message) }, { ignore: [404] });
    return found.found ? found._source : undefined;
  });
  assert.deepEqual({ message_type: doc?.['message_type'], is_deleted: doc?.['is_deleted'] }, { message_type: null, is_deleted: null });
});
