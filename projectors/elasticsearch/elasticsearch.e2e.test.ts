// The Elasticsearch projector end to end, as the real process, against the real servers: a
// mixed workload while the projector is kill -9ed at random moments and restarted; then every
// document of the generation must equal what PostgreSQL says. Also: a replay from the earliest
// offset leaves _source and _version identical; Elasticsearch stopped mid-run is retried
// through by the same process; a burst of updates to one row ends at the last value.
// Each test fills a generation of its own (test/harness.ts); the first from the earliest
// offset, compared whole, the later ones from the partitions' ends.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { stack, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders } from '../runtime/dead-letter.ts';
import type { CheckpointStore } from '../runtime/sink.ts';
import { applied, endOffsets } from '../runtime/testing/caught-up.ts';
import { metricsUrl, reportedCheckpoints, retries, scrape as scrapeMetrics } from '../runtime/testing/observe.ts';
import { randomKills } from '../runtime/testing/random-kills.ts';
import { kill9, outputTail, type ProjectorProcess, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';
import { checkpointId, checkpointIndex } from './checkpoint.ts';
import { elasticsearchProjector, indexName } from './index.ts';
import { elasticsearchHarness, sum } from './test/harness.ts';
import { actualFromElasticsearch, idsOf, mergeIds, snapshotDifferences, summary } from './test/oracle.ts';
import { runSearchWorkload, type SearchWorkloadResult } from './test/workload.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

const { name, topics } = elasticsearchProjector;
let projector: ProjectorProcess | undefined;
const logTail = (lines = 15) => outputTail(projector, lines);
const { db, es, admin, partitionEnds, freshGeneration, caughtUp, mismatches, assertMatchesPostgres, letterEnds, lettersOf } = elasticsearchHarness({
  clientId: 'nova-elasticsearch-e2e',
  projectors: () => [projector],
  log: logTail,
});

const start = (generation: number) => startProjector(name, ['--generation', String(generation), '--shadow', '--max-batch', '500']);

let g1: number;
let store1: CheckpointStore;
let workload1: SearchWorkloadResult | undefined;

test('20,000 writes with six kill -9s at random moments of a working process: every document equals what PostgreSQL says', { timeout: 600_000 }, async (t) => {
  [g1, store1] = await freshGeneration();
  t.after(() => t.diagnostic(`generation ${g1}; last projector output:\n${logTail(5)}`));
  projector = start(g1);
  // one kill at a random point in each sixth of the first 90% of the workload (writes go on after the last)
  const statements = 20_000;
  const killAt = Array.from({ length: 6 }, (_, i) => Math.floor(((i + 0.1 + Math.random() * 0.8) * statements * 0.9) / 6));
  const kills9 = randomKills({
    at: killAt,
    // at any moment of a working process, so that some kills land between a document bulk and its checkpoints
    admin,
    groupId: projectorGroup(name, g1),
    topics,
    async kill() {
      await kill9(projector as ProjectorProcess);
      const at = await applied(store1);
      projector = start(g1);
      return at;
    },
  });
  const workload = await runSearchWorkload(db, { statements, tag: `es-${randomUUID().slice(0, 8)}`, onProgress: kills9.onProgress });
  t.diagnostic(`kills: ${(await kills9.finished()).join('; ')}`);
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

type Scraped = { sinkRetries: number; checkpoints: Map<string, bigint> };

/** What a projector's /metrics says now: its sink retries, and the next offset it last checkpointed per partition. */
async function scrape(metrics: string): Promise<Scraped> {
  const samples = await scrapeMetrics(metrics);
  return { sinkRetries: retries(samples, 'sink'), checkpoints: reportedCheckpoints(samples) };
}

/**
 * With Elasticsearch stopped, writes posts (their ids into `posts`) until the outage has met
 * the projector for sure: every posts partition ends past its checkpoint, and between two
 * reads of /metrics its sink retries grew. Returns the retries at the stop and both reads; the
 * checkpoints of partitions it has not written since it started are the `stored` ones.
 */
async function outageMet(metrics: string, stored: Map<string, bigint>, author: string, posts: Set<string>) {
  const read = async (): Promise<Scraped> => {
    const now = await scrape(metrics);
    return { ...now, checkpoints: new Map([...stored, ...now.checkpoints]) };
  };
  const atStop = (await scrape(metrics)).sinkRetries;
  let first: Scraped | undefined;
  const last = await waitFor('the projector to retry its sink against the stopped Elasticsearch, with posts past every checkpoint', async () => {
    const post = await db.query(`INSERT INTO posts (author_id, text) VALUES ($1, 'written while Elasticsearch is down') RETURNING id`, [author]);
    posts.add(String(post.rows[0].id));
    const [now, ends] = [await read(), await endOffsets(admin, ['nova.social.posts'])];
    if (now.sinkRetries <= atStop || ![...ends].every(([key, end]) => end > (now.checkpoints.get(key) ?? 0n))) return undefined;
    first ??= now;
    return now.sinkRetries > first.sinkRetries ? now : undefined;
  }, 120_000);
  return { atStop, first: first as Scraped, last };
}

test('Elasticsearch stopped and started mid-run: the same process retries, resumes and converges', { timeout: 400_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  // from the end: the history was checked whole by the first test, and reading it again would
  // only make this one slower
  const [generation, store] = await freshGeneration(await partitionEnds());
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail(5)}`));
  const [seeded, letters] = [await applied(store), await letterEnds()];
  projector = start(generation);
  const { pid } = projector.child;
  const metrics = await metricsUrl(projector);
  // rows written while Elasticsearch is down: compared with the workload's
  const author = String((await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`es-outage-${randomUUID().slice(0, 8)}`])).rows[0].id);
  const outageRows = { users: new Set([author]), posts: new Set<string>() };
  let restarted: Promise<string> | undefined;
  t.after(() => restarted); // a failure too waits for Elasticsearch to be up again
  let outage: (Awaited<ReturnType<typeof outageMet>> & { downMs: number }) | undefined;
  const workload = await runSearchWorkload(db, {
    statements: 4_000,
    tag: `es-${randomUUID().slice(0, 8)}`,
    onProgress: async (done) => {
      if (done < 1_000 || restarted) return;
      await waitFor('the projector to apply a batch', async () => ((await applied(store)) > seeded ? true : undefined), 60_000);
      const stored = new Map((await store.load()).map((c): [string, bigint] => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
      const downAt = Date.now();
      await stack('down', 'elasticsearch');
      try {
        outage = { ...(await outageMet(metrics, stored, author, outageRows.posts)), downMs: Date.now() - downAt };
      } finally {
        // writes go on while it starts again (10-20 s); the test waits for it after the workload
        restarted = stack('up', 'elasticsearch');
      }
    },
  });
  assert.ok(outage && restarted, 'Elasticsearch was stopped and started again');
  await restarted;
  t.diagnostic(`Elasticsearch down for ${(outage.downMs / 1000).toFixed(1)} s, ${outageRows.posts.size} posts written meanwhile; sink retries: ${outage.atStop} at the stop, ${outage.first.sinkRetries}, then ${outage.last.sinkRetries}`);
  assert.deepEqual(outage.last.checkpoints, outage.first.checkpoints, 'no checkpoint moved while Elasticsearch was down');
  await assertMatchesPostgres(generation, store, { ...workload, touched: mergeIds(workload.touched, outageRows) }, 'index and workload');
  assert.equal(projector.child.pid, pid);
  assert.equal(projector.child.exitCode, null, `the projector exited:\n${logTail()}`);
  assert.equal(projector.child.signalCode, null);
  // an outage is retried, never dead-lettered
  assert.deepEqual((await lettersOf(generation, letters)).map((r) => r.headers?.[deadLetterHeaders.reason]?.toString()), [], 'nothing was dead-lettered');
});

test('1,000 updates to one posts row in a burst: the document ends with the last value', { timeout: 120_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  const [generation, store] = await freshGeneration(await partitionEnds());
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail(5)}`));
  projector = start(generation);
  const author = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`es-burst-${randomUUID().slice(0, 8)}`])).rows[0].id;
  const post = (await db.query(`INSERT INTO posts (author_id, text) VALUES ($1, 'start') RETURNING id`, [author])).rows[0].id;
  // the projector is consuming once the row is in the index: the burst then meets it live
  assert.deepEqual(await mismatches(generation, store, undefined, { posts: new Set([String(post)]) }), []);
  // one commit each, back to back: the projector meets them across several batches
  for (let i = 0; i < 1_000; i++) await db.query(`UPDATE posts SET text = $2 WHERE id = $1`, [post, `burst ${i}`]);
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
  const [generation] = await freshGeneration(await partitionEnds());
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
