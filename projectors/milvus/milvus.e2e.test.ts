// The Milvus projector end to end, as the real process, against the real servers, in a
// generation of its own (removed afterwards): embeddings written in PostgreSQL while the projector
// is kill -9ed at random moments and restarted; then the generation must hold exactly what
// PostgreSQL holds for the rows this file wrote (other writers may share the topics). Also: a
// replay from the earliest offset changes nothing; a garbage record and a NaN vector go to
// nova.dlq.milvus while later records apply; a search finds the nearest vector planted; a
// process that kills itself between a batch's writes and its checkpoint leaves the writes with
// the checkpoint behind them, which a restart replays onto what PostgreSQL says.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic } from '../runtime/dead-letter.ts';
import type { Checkpoint, CheckpointStore } from '../runtime/sink.ts';
import { endOffsets } from '../runtime/testing/caught-up.ts';
import { captureTopics, endOffsets as kafkaEndOffsets } from '../runtime/testing/kafka-capture.ts';
import { assertAppliedExactlyFrom } from '../runtime/testing/observe.ts';
import { randomKills } from '../runtime/testing/random-kills.ts';
import { deleteConsumerGroup, kill9, outputTail, type ProjectorProcess, startCrashingProjector, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';
import { EMBEDDING_DIM, clearCheckpoints, collectionName, connectMilvus, dropGeneration, milvusProjector, type EmbeddingCollection } from './index.ts';
import { byKey, compareCollection, doubledKeys, readGeneration, readRows } from './test/oracle.ts';
import { createOwners, randomVector, runEmbeddingWorkload, type Touched } from './test/workload.ts';
import { readTombstones } from './tombstones.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

const { name, topics } = milvusProjector;
const collections: EmbeddingCollection[] = ['user_embeddings', 'post_embeddings'];
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const kafka = new Kafka({ clientId: 'nova-milvus-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const milvus = await connectMilvus(env('MILVUS_ADDRESS'));
const generation = randomInt(1_000, 100_000);
const tag = `milvus-e2e-${randomUUID().slice(0, 8)}`;
let store: CheckpointStore & { close(): Promise<void> };
let projector: ProjectorProcess | undefined;
let touched: Touched = { user_embeddings: new Set(), post_embeddings: new Set() };

before(async () => {
  await Promise.all([db.connect(), admin.connect()]);
  const taken = await milvus.hasCollection({ collection_name: collectionName('user_embeddings', generation) });
  assert.equal(taken.value, false, `generation ${generation} is in use`);
  store = await milvusProjector.createSink({ generation, env: process.env, shadow: true });
});

after(async () => {
  if (projector) await stopProjector(projector);
  await dropGeneration(milvus, generation);
  await store.close();
  await deleteConsumerGroup(admin, projectorGroup(name, generation));
  await Promise.all([db.end(), admin.disconnect(), milvus.closeConnection()]);
});

// small sink calls: the backlog a restarted process finds takes several, so a kill lands amid them
const start = () => startProjector(name, ['--generation', String(generation), '--shadow', '--max-batch', '25']);
const logTail = () => outputTail(projector, 8, 400);


/** Records applied so far: the sum of the generation's checkpoints. */
const applied = async () => (await store.load()).reduce((sum, c) => sum + BigInt(c.nextOffset), 0n);

/** Until the checkpoints reach the end every non-empty partition has now. */
async function caughtUp() {
  const ends = [...(await endOffsets(admin, topics))];
  await waitFor('the checkpoints to reach every partition end', async () => {
    const at = new Map((await store.load()).map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
    return ends.every(([key, end]) => (at.get(key) ?? 0n) >= end) ? true : undefined;
  }, 90_000);
}

/** Every key written equals PostgreSQL; compared again while Debezium may still be publishing the last commits. */
async function assertMatchesPostgres(keys: Touched) {
  await caughtUp();
  let problems: string[] = [];
  await waitFor('the generation to equal PostgreSQL', async () => {
    problems = [];
    for (const collection of collections) {
      for (const { key, detail } of await compareCollection(db, milvus, generation, collection, keys[collection])) problems.push(`${collection} ${key}: ${detail}`);
    }
    return problems.length === 0 ? true : undefined;
  }, 30_000).catch(() => {});
  assert.ok(problems.length === 0, `${problems.length} differences, first: ${problems.slice(0, 5).join('; ')}\nprojector:\n${logTail()}`);
}

/** The rows and tombstones of the keys written, versions and commit orders included. */
async function scopedSnapshot() {
  const snapshot: Record<string, unknown> = {};
  for (const collection of collections) {
    const ids = [...touched[collection]];
    snapshot[collection] = [...(await readRows(milvus, generation, collection, { keys: ids }))].sort(([a], [b]) => byKey(a, b));
    snapshot[`${collection} tombstones`] = [...(await readTombstones(milvus, generation, collection, ids)).byKey].sort(([a], [b]) => a - b);
  }
  return snapshot;
}

test('1,000 statements with five kill -9s at random moments: the generation equals PostgreSQL', { timeout: 300_000 }, async (t) => {
  const owners = await createOwners(db, tag, 30);
  // a target in each fifth of the first 80%, at least 112 statements apart
  const statements = 1_000;
  const step = (statements * 0.8) / 5;
  const killAt = Array.from({ length: 5 }, (_, i) => Math.floor(i * step + step * (0.2 + 0.3 * Math.random())));
  projector = start();
  const kills9 = randomKills({
    at: killAt,
    // at any moment of a working process: also between a batch's writes and its checkpoint. Its
    // workload writes hundreds of statements a second and the sink keeps up: within 300 ms of the
    // gate, or the kill meets a process that has applied everything
    maxDelayMs: 300,
    admin,
    groupId: projectorGroup(name, generation),
    topics,
    async kill() {
      await kill9(projector as ProjectorProcess);
      const at = await applied();
      projector = start();
      return at;
    },
  });
  touched = await runEmbeddingWorkload(db, { owners, statements, onProgress: kills9.onProgress });
  t.diagnostic(`generation ${generation}; kills: ${(await kills9.finished()).join('; ')}`);
  await assertMatchesPostgres(touched);
});

test('a replay from the earliest offset into the same generation leaves every row and tombstone identical', { timeout: 90_000 }, async () => {
  // caught up first, so that the replay alone can change what is compared
  await caughtUp();
  await kill9(projector as ProjectorProcess);
  const beforeReplay = await scopedSnapshot();
  await clearCheckpoints(milvus, { projector: name, generation });
  assert.deepEqual(await store.load(), [], 'no checkpoint left: the projector starts at the earliest offset');
  projector = start();
  await caughtUp();
  assert.match(projector.output.join(''), /"checkpoints":\[\]/, 'the restarted projector resumed from no checkpoint');
  assert.deepEqual(await scopedSnapshot(), beforeReplay);
});

test('a garbage record and a NaN vector go to nova.dlq.milvus; later records apply', { timeout: 90_000 }, async () => {
  const [owner] = (await createOwners(db, `${tag}-dlq`, 1)).user_embeddings as [number];
  const since = await kafkaEndOffsets(env('KAFKA_BROKERS'), [deadLetterTopic(name)]);
  const junk = `not avro ${randomUUID()}`;
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'nova.recommendation.user_embeddings', messages: [{ key: 'not avro', value: junk, partition: 0 }] });
  await producer.disconnect();
  const nan = Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === 3 ? NaN : 0.5));
  // PostgreSQL takes NaN in a REAL[] (the CHECK refuses only NULLs and wrong shapes)
  await db.query(`INSERT INTO user_embeddings (user_id, embedding, model_version) VALUES ($1, $2, 'nan')`, [owner, nan]);

  const letters = new Map<string, Record<string, string>>();
  await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics: [deadLetterTopic(name)],
    since,
    until: (records) => {
      const letter = records[records.length - 1];
      const headers = Object.fromEntries(Object.entries(letter?.headers ?? {}).map(([k, v]) => [k, String(v)]));
      // this generation's letters only: a live projector on the stack letters the same records
      if (headers[deadLetterHeaders.generation] !== String(generation)) return false;
      if (letter?.value?.toString() === junk) letters.set('garbage', headers);
      else if (headers[deadLetterHeaders.reason]?.includes(`user_embeddings ${owner}:`)) letters.set('nan', headers);
      return letters.size === 2;
    },
  });
  assert.equal(letters.get('garbage')?.[deadLetterHeaders.code], 'NOVA_D1001');
  assert.equal(letters.get('nan')?.[deadLetterHeaders.code], 'NOVA_S1002');
  assert.match(letters.get('nan')?.[deadLetterHeaders.reason] ?? '', /embedding\[3\] is NaN/);
  // fixed only now: in one batch with the NaN insert, the runtime would keep only this newer change
  // (it sends every column, so nothing of the NaN row is carried forward) and the NaN row would never reach the sink
  const good = Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === 3 ? 1 : 0.5));
  await db.query(`UPDATE user_embeddings SET embedding = $2, model_version = 'fixed' WHERE user_id = $1`, [owner, good]);
  touched.user_embeddings.add(owner);
  await assertMatchesPostgres({ user_embeddings: new Set([owner]), post_embeddings: new Set() });
});

test('a search over the generation returns the nearest vector planted, never a deleted one', { timeout: 90_000 }, async () => {
  const [kept, deleted] = (await createOwners(db, `${tag}-ann`, 2)).user_embeddings as [number, number];
  // random directions of this run's own: earlier runs' rows stay in PostgreSQL and in the topics
  const [planted, gone] = [randomVector(), randomVector()];
  await db.query(`INSERT INTO user_embeddings (user_id, embedding, model_version) VALUES ($1, $2, 'ann'), ($3, $4, 'ann')`, [kept, planted, deleted, gone]);
  await db.query(`DELETE FROM user_embeddings WHERE user_id = $1`, [deleted]);
  await assertMatchesPostgres({ user_embeddings: new Set([kept, deleted]), post_embeddings: new Set() });
  const search = async (vector: number[]) =>
    (await milvus.search({ collection_name: collectionName('user_embeddings', generation), data: [vector], limit: 3, output_fields: ['user_id'] })).results;
  const [nearest] = await search(planted.map((x) => x + (Math.random() - 0.5) * 0.05));
  assert.equal(Number(nearest?.['user_id']), kept);
  assert.ok(Number(nearest?.score) > 0.99, `cosine ${nearest?.score}`);
  assert.ok(!(await search(gone)).some((hit) => Number(hit['user_id']) === deleted), 'the deleted vector is not found');
});

test('killed between a batch’s writes and its checkpoint upsert: the writes stay, the checkpoints stay behind them, a restart converges', { timeout: 150_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  const written = await runEmbeddingWorkload(db, { owners: await createOwners(db, `${tag}-crash`, 10), statements: 40 });
  // nothing writes the generation now: what changes next is the crashing process's doing
  const checkpoints = async () => new Map((await store.load()).map((c): [string, Checkpoint] => [`${c.topic}:${c.partition}`, c]));
  const [checkpointsBefore, generationBefore] = [await checkpoints(), await readGeneration(milvus, generation)];
  const crashing = startCrashingProjector(fileURLToPath(new URL('./test/crash-fixture.ts', import.meta.url)), generation);
  t.after(() => stopProjector(crashing));
  await crashing.exited;
  assert.equal(crashing.child.signalCode, 'SIGKILL', `the crashing projector killed itself:\n${outputTail(crashing)}`);
  assert.deepEqual(await checkpoints(), checkpointsBefore, 'no checkpoint was written');
  assert.notDeepEqual(await readGeneration(milvus, generation), generationBefore, 'the writes of the batch it died in are in the store, past the checkpoints');
  projector = start();
  await assertMatchesPostgres(written);
  // it applied the killed batch's records again, and nothing twice: the rows alone could not tell
  await assertAppliedExactlyFrom(projector, new Map([...checkpointsBefore].map(([key, c]) => [key, BigInt(c.nextOffset)])), milvusProjector.topics, env('KAFKA_BROKERS'));
  for (const collection of collections) assert.deepEqual(await doubledKeys(milvus, generation, collection, [...written[collection]]), [], `${collection}: replayed rows are each one row`);
});
