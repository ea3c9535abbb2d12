// The ClickHouse projector end to end, as the real process, against the real servers: a mixed
// workload on user_interactions while the projector is kill -9ed at random moments and
// restarted; then every row the workload touched must be, in the generation's current state,
// what PostgreSQL says. Then a replay from the earliest offset into the same generation must
// leave the current state identical, a garbage record must land in the dead-letter topic
// while the records after it are applied, and a process that kills itself between a batch's
// rows and its checkpoint must leave the rows with the checkpoint behind them, which a restart
// replays onto what PostgreSQL says. One generation of its own, from the earliest offset;
// its tables, checkpoints and consumer group are removed afterwards. Other tests and engineers
// write to user_interactions meanwhile (one truncates it): only the touched rows are compared
// with PostgreSQL, and a row someone else changed during the replay must show a version or a
// truncate newer than the checkpoints it started from, and agree with PostgreSQL.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic } from '../runtime/dead-letter.ts';
import type { RawRecord } from '../runtime/decode/index.ts';
import type { Checkpoint } from '../runtime/sink.ts';
import { applied, caughtUp, endOffsets } from '../runtime/testing/caught-up.ts';
import { decodeAll } from '../runtime/testing/cdc-capture.ts';
import { assertAppliedExactlyFrom } from '../runtime/testing/observe.ts';
import { randomKills } from '../runtime/testing/random-kills.ts';
import { captureTopics, endOffsets as kafkaEndOffsets, recordsBetween } from '../runtime/testing/kafka-capture.ts';
import { kill9, outputTail, type ProjectorProcess, startCrashingProjector, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';
import { clearCheckpoints, clickhouseClient, clickhouseProjector } from './index.ts';
import { actualFromClickhouse, differences, doubled, expectedFromPostgres, summary } from './test/oracle.ts';
import { ownGeneration } from './test/own-generation.ts';
import { runInteractionWorkload } from './test/workload.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

const { name, topics } = clickhouseProjector;
const [topic] = topics as [string];
const generation = randomInt(1_000_000, 1_000_000_000);
const args = ['--generation', String(generation), '--shadow', '--max-batch', '500'];
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const ch = clickhouseClient(process.env);
const kafka = new Kafka({ clientId: 'nova-clickhouse-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
let projector: ProjectorProcess | undefined;
let touched = new Set<string>();

const own = ownGeneration({ generation, db, admin, ch, projector: () => projector });

const logTail = (lines = 15) => outputTail(projector, lines);
const waitCaughtUp = (timeoutMs?: number) => caughtUp({ db, admin, store: own.store, topics, log: logTail, timeoutMs });
const start = () => (projector = startProjector(name, args));

/**
 * `ids` in the current state equal PostgreSQL once the projector has caught up. Rows that differ
 * are compared again each time it has caught up anew, for up to 30 s: a TRUNCATE by another test
 * may land between the two reads.
 */
async function assertMatchesPostgres(ids: Set<string>) {
  await waitCaughtUp();
  let problems = differences(await expectedFromPostgres(db, ids), await actualFromClickhouse(ch, generation, ids), ids);
  await waitFor('the differing rows to match PostgreSQL', async () => {
    if (problems.length === 0) return true;
    const again = problems.map((p) => p.id);
    await waitCaughtUp(10_000);
    problems = differences(await expectedFromPostgres(db, again), await actualFromClickhouse(ch, generation, again), again);
    return problems.length === 0 ? true : undefined;
  }, 30_000).catch(() => {});
  assert.ok(problems.length === 0, `generation ${generation} differs from PostgreSQL: ${summary(problems)}`);
}

test('4,000 statements with six kill -9s at random moments: every touched row equals PostgreSQL', { timeout: 600_000 }, async (t) => {
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail(5)}`));
  const statements = 4_000;
  // one kill at a random point in each sixth of the first 90% of the workload (writes go on after the last)
  const killAt = Array.from({ length: 6 }, (_, i) => Math.floor(((i + 0.1 + Math.random() * 0.8) * statements * 0.9) / 6));
  const started = Date.now();
  start();
  const kills9 = randomKills({
    at: killAt,
    // within 300 ms of the gate: its sink keeps up with the workload, so later the process is mostly idle
    maxDelayMs: 300,
    admin,
    groupId: projectorGroup(name, generation),
    topics,
    async kill() {
      await kill9(projector as ProjectorProcess);
      const at = await applied(own.store);
      start();
      return at;
    },
  });
  const workload = await runInteractionWorkload(db, { statements, tag: `ch-${randomUUID().slice(0, 8)}`, onProgress: kills9.onProgress });
  t.diagnostic(`kills: ${(await kills9.finished()).join('; ')}`);
  touched = workload.touched;
  await assertMatchesPostgres(touched);
  t.diagnostic(`${touched.size} rows compared after ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('a replay from the earliest offset into the same generation leaves the current state identical', { timeout: 300_000 }, async (t) => {
  assert.ok(touched.size > 0, 'needs the first test’s generation');
  // caught up, so that whatever the topics hold past these checkpoints was written meanwhile
  await waitCaughtUp();
  await kill9(projector as ProjectorProcess);
  const checkpointsBefore = await own.store.load();
  const stateBefore = await actualFromClickhouse(ch, generation);
  await clearCheckpoints(ch, { projector: name, generation });
  assert.deepEqual(await own.store.load(), [], 'clearCheckpoints returns once they are gone');
  start();
  await waitCaughtUp();
  assert.match(projector?.output.join('') ?? '', /"checkpoints":\[\]/, 'the restarted projector resumed from no checkpoint');
  const stateAfter = await actualFromClickhouse(ch, generation);
  const changed = differences(stateBefore, stateAfter);
  if (changed.length > 0) {
    // Written meanwhile by someone else: a row a change after the checkpoints names, or one a
    // truncate after them removed. What the replay itself changed, a deleted row brought back
    // included, is neither; and every changed row agrees with PostgreSQL.
    const since = new Map(checkpointsBefore.map((c): [string, bigint] => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
    const meanwhile = (await decodeAll(await recordsBetween(env('KAFKA_BROKERS'), topics, since, await endOffsets(admin, topics)))).filter((d) => d.kind === 'change');
    const named = new Set(meanwhile.flatMap((c) => (c.key ? [String(c.key['id'])] : [])));
    const truncated = meanwhile.some((c) => c.op === 'truncate');
    const excused = (id: string) => named.has(id) || (truncated && !stateAfter.has(id));
    t.diagnostic(`${changed.length} rows changed during the replay; ${changed.filter((c) => excused(c.id)).length} written meanwhile (${meanwhile.length} changes after the checkpoints)`);
    const replayed = changed.filter((c) => !excused(c.id));
    assert.ok(replayed.length === 0, `the replay changed rows: ${summary(replayed)}`);
    await assertMatchesPostgres(new Set(changed.map((c) => c.id)));
  }
  await assertMatchesPostgres(touched);
});

test('a garbage record goes to nova.dlq.clickhouse with its reason; the records after it are applied', { timeout: 180_000 }, async () => {
  if (!projector || projector.child.exitCode !== null || projector.child.signalCode !== null) start();
  const letters = deadLetterTopic(name);
  const since = await kafkaEndOffsets(env('KAFKA_BROKERS'), [letters]);
  const junk = `not avro ${randomUUID()}`;
  const producer = kafka.producer();
  await producer.connect();
  const [sent] = await producer.send({ topic, messages: [{ key: 'not avro', value: junk, partition: 0 }] });
  await producer.disconnect();
  const garbageOffset = BigInt(sent?.baseOffset ?? '-1');

  // write until partition 0 holds a record after the garbage
  const later = new Set<string>();
  const [user] = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`ch-dlq-${randomUUID().slice(0, 8)}`])).rows;
  await waitFor('a record after the garbage on its partition', async () => {
    for (let i = 0; i < 8; i++) {
      const { rows } = await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type) VALUES ($1, 'post', $2, 'after garbage') RETURNING id`, [user.id, i]);
      later.add(String(rows[0].id));
    }
    const ends = await endOffsets(admin, [topic]);
    return (ends.get(`${topic}:0`) ?? 0n) > garbageOffset + 1n ? true : undefined;
  }, 60_000);

  // this generation's letter: a live projector on the stack letters the same record
  const ours = (r: RawRecord) => r.value?.toString() === junk && r.headers?.[deadLetterHeaders.generation]?.toString() === String(generation);
  const [letter] = (await captureTopics({ brokers: env('KAFKA_BROKERS'), topics: [letters], since, until: (records) => records.some(ours) })).filter(ours);
  const headers = Object.fromEntries(Object.entries(letter?.headers ?? {}).map(([k, v]) => [k, String(v)]));
  assert.equal(headers[deadLetterHeaders.topic], topic);
  assert.equal(headers[deadLetterHeaders.partition], '0');
  assert.equal(headers[deadLetterHeaders.offset], String(garbageOffset));
  assert.equal(headers[deadLetterHeaders.code], 'NOVA_D1001');
  assert.match(headers[deadLetterHeaders.reason] ?? '', /Confluent wire format/);
  await assertMatchesPostgres(later);
  const partition0 = (await own.store.load()).find((c) => c.topic === topic && c.partition === 0);
  assert.ok(BigInt(partition0?.nextOffset ?? '0') > garbageOffset + 1n, 'the checkpoint passed the garbage and a record after it');
});

test('killed between a batch’s rows and its checkpoint insert: the rows stay, the checkpoints stay behind them, a restart converges', { timeout: 240_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  const workload = await runInteractionWorkload(db, { statements: 200, tag: `ch-crash-${randomUUID().slice(0, 8)}` });
  // nothing writes the generation now: what changes next is the crashing process's doing
  const checkpoints = async () => new Map((await own.store.load()).map((c): [string, Checkpoint] => [`${c.topic}:${c.partition}`, c]));
  const [checkpointsBefore, stateBefore] = [await checkpoints(), await actualFromClickhouse(ch, generation)];
  const crashing = startCrashingProjector(fileURLToPath(new URL('./test/crash-fixture.ts', import.meta.url)), generation);
  t.after(() => stopProjector(crashing));
  await crashing.exited;
  assert.equal(crashing.child.signalCode, 'SIGKILL', `the crashing projector killed itself:\n${outputTail(crashing)}`);
  assert.deepEqual(await checkpoints(), checkpointsBefore, 'no checkpoint was written');
  const written = differences(stateBefore, await actualFromClickhouse(ch, generation));
  t.diagnostic(`${written.length} rows written by the batch it died in`);
  assert.ok(written.length > 0, 'the rows of the batch it died in are in the store, past the checkpoints');
  const restarted = start();
  const ids = new Set([...workload.touched, ...written.map((w) => w.id)]);
  await assertMatchesPostgres(ids);
  // it applied the killed batch's records again, and nothing twice: the rows alone could not tell
  await assertAppliedExactlyFrom(restarted, new Map([...checkpointsBefore].map(([key, c]) => [key, BigInt(c.nextOffset)])), topics, env('KAFKA_BROKERS'));
  assert.deepEqual(await doubled(ch, generation, [...ids]), [], 'readers see each replayed row once (the reader query collapses its versions)');
});
