// The Redis projector end to end: a mixed workload through the real pipeline while the
// projector is kill -9ed at random moments of its work and restarted; then every Redis key must
// equal what PostgreSQL says. Also: a replay from the earliest offset leaves the keys
// byte-identical; a garbage record goes to the dead-letter topic while later records are
// applied; Redis stopped under it is retried and ridden out; SIGTERM and a crash right after a
// batch's script each leave checkpoints that the restart resumes from exactly. Each test starts
// the projector if an earlier one has not, so any one of them runs alone too.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, stack, waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { RawRecord } from '../runtime/decode/index.ts';
import { deadLetterHeaders, deadLetterTopic } from '../runtime/dead-letter.ts';
import { replayDeadLetters } from '../runtime/dead-letter-replay.ts';
import { endOffsets } from '../runtime/testing/caught-up.ts';
import { captureTopics, endOffsets as letterEnds } from '../runtime/testing/kafka-capture.ts';
import { kill9, outputTail, startCrashingProjector, startProjector, stopProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { masters, redisTarget } from './client.ts';
import { actualFromRedis } from './drift.ts';
import { redisTopics } from './mapping/index.ts';
import { checkpointKey, sinkConnectionName } from './sink.ts';
import { appliedRecords, assertMatchesPostgres, caughtUp, storedCheckpoints } from './test/harness.ts';
import { randomKills } from '../runtime/testing/random-kills.ts';
import { assertAppliedExactlyFrom, logLines, metricsUrl, reportedCheckpoints, resumedFrom, retries, scrape } from '../runtime/testing/observe.ts';
import { claimGeneration } from './test/own-generation.ts';
import { runWorkload } from './test/workload.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

// a generation (key prefix) of this run's own, so the live one is never touched
const own = await claimGeneration(process.env);
const { redis, generation, keys } = own;
const group = projectorGroup('redis', own.generation);
const args = ['--generation', String(own.generation), '--shadow', '--max-batch', '500', '--metrics-port', '0'];
const brokers = env('KAFKA_BROKERS');
// the stack service the Redis views live on: one node, or the cluster profile (redis.cluster.e2e.test.ts)
const redisService = redisTarget(process.env).cluster ? 'redis-cluster' : 'redis';
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
redis.on('error', () => {}); // the outage test stops Redis under it; commands still fail loudly
const kafka = new Kafka({ clientId: 'nova-redis-e2e', brokers: [brokers], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
let projector: ProjectorProcess | undefined;

const start = () => (projector = startProjector('redis', args));
const running = () => projector ?? start();
const tag = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const settled = () => caughtUp(redis, generation, kafka, db);

/**
 * The stored checkpoints once a killed process's last script can no longer land: Redis may still
 * run a command it had read from the socket before the kill, so two reads 250 ms apart must agree.
 */
async function checkpointsAtRest(): Promise<Map<string, bigint>> {
  let last = await storedCheckpoints(redis, generation);
  return waitFor('the killed process\'s last write to land', async () => {
    await pause(250);
    const now = await storedCheckpoints(redis, generation);
    const same = now.size === last.size && [...now].every(([key, next]) => last.get(key) === next);
    last = now;
    return same ? now : undefined;
  });
}

before(async () => {
  await db.connect();
  await admin.connect();
});

after(async () => {
  if (projector) await kill9(projector);
  await own.release();
  await admin.disconnect();
  await db.end();
});

/** Once caught up, the restarted process applied exactly the changes after `stored` (runtime/testing/observe.ts). */
async function assertResumedExactly(restarted: ProjectorProcess, stored: Map<string, bigint>) {
  await settled();
  await assertAppliedExactlyFrom(restarted, stored, redisTopics, brokers);
}

test('20,000 writes with five kill -9s at random moments of work: every key equals what PostgreSQL says', { timeout: 900_000 }, async (t) => {
  t.after(() => t.diagnostic(`last projector output:\n${outputTail(projector, 20)}`));
  const statements = 20_000;
  // one target in each fifth of the first 90% of the run (writes go on after the last)
  const fifth = (statements * 0.9) / 5;
  const killAt = Array.from({ length: 5 }, (_, i) => Math.floor(i * fifth + randomInt(200, fifth - 200)));
  let stored = await storedCheckpoints(redis, generation);
  running();
  const kills9 = randomKills({
    at: killAt,
    admin,
    groupId: group,
    atWork: async () => {
      assert.deepEqual(await resumedFrom(projector as ProjectorProcess), stored, 'the restart read the checkpoints the killed process stored');
      // past its first batch, so kills land in the middle of a stream of batches, not always
      // in the restart's first one (bounded: a process with nothing waiting may never move)
      await waitFor('the restarted process to store a batch', async () => ((await appliedRecords(redis, generation)) > [...stored.values()].reduce((a, b) => a + b, 0n) ? true : undefined), 30_000).catch(() => undefined);
    },
    topics: redisTopics,
    async kill() {
      await kill9(projector as ProjectorProcess);
      stored = await checkpointsAtRest();
      start();
      return [...stored.values()].reduce((sum, next) => sum + next, 0n);
    },
  });
  await runWorkload(db, { statements, tag: tag('e2e'), onProgress: kills9.onProgress });
  for (const line of await kills9.finished()) t.diagnostic(`kill at ${line}`);
  assert.deepEqual(await resumedFrom(projector as ProjectorProcess), stored);
  await settled();
  await assertMatchesPostgres(redis, generation, db);
});

test('a replay from the earliest offset leaves every key byte-identical', { timeout: 300_000 }, async () => {
  running();
  await settled();
  await kill9(projector as ProjectorProcess);
  const before = await actualFromRedis(redis, generation);
  await redis.del(own.key(checkpointKey('redis')));
  // a replay indeed: from no checkpoint, every change in the topics applied again
  await assertResumedExactly(start(), new Map());
  assert.deepEqual(await actualFromRedis(redis, generation), before);
});

test('a garbage record goes to the dead-letter topic with its reason and this generation; later records are applied', { timeout: 120_000 }, async () => {
  running();
  const since = await letterEnds(brokers, [deadLetterTopic('redis')]).catch(() => undefined);
  const producer = kafka.producer();
  await producer.connect();
  const junk = `not avro ${randomUUID()}`;
  const garbage = await producer.send({ topic: 'nova.live.live_streams', messages: [{ key: 'not avro', value: junk, partition: 0 }] });
  await producer.disconnect();
  const user = await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [tag('dlq')]);
  const stream = await db.query(`INSERT INTO live_streams (user_id, title, rtmp_url, status, started_at) VALUES ($1, 'after garbage', 'rtmp://x', 'live', now()) RETURNING id`, [user.rows[0].id]);

  // the letter of this generation: any other redis projector on the stack letters the same record
  const ours = (r: RawRecord) => r.value?.toString() === junk && r.headers?.[deadLetterHeaders.generation]?.toString() === String(own.generation);
  const [dead] = (await captureTopics({ brokers, topics: [deadLetterTopic('redis')], since, until: (records) => records.some(ours) })).filter(ours);
  assert.ok(dead, 'the garbage record is in the dead-letter topic');
  const header = (name: string) => dead.headers?.[name]?.toString();
  assert.equal(header(deadLetterHeaders.topic), 'nova.live.live_streams');
  assert.equal(header(deadLetterHeaders.offset), garbage[0]?.baseOffset);
  assert.equal(header(deadLetterHeaders.code), 'NOVA_D1001');
  assert.match(header(deadLetterHeaders.reason) ?? '', /Confluent wire format/);
  const listed: string[] = [];
  await replayDeadLetters({ kafka, projector: 'redis', dryRun: true, onLetter: (line) => listed.push(line) });
  const letter = `${deadLetterTopic('redis')}[${dead.partition}]@${dead.offset} (NOVA_D1001: from nova.live.live_streams[0]@${garbage[0]?.baseOffset})`;
  assert.ok(listed.some((line) => line.includes(letter)), 'dlq-replay finds this letter and where it came from');
  await waitFor('the stream after the garbage to be live in Redis', async () =>
    (await redis.zscore(keys.liveNow, String(stream.rows[0].id))) !== null ? true : undefined,
  );
});

test('Redis stopped under the projector: records wait, the checkpoints stand still, the sink retries; restarted, the same process converges', { timeout: 300_000 }, async () => {
  const same = running();
  const url = await metricsUrl(same);
  await settled();
  const stored = await storedCheckpoints(redis, generation);
  const retriedBefore = retries(await scrape(url), 'sink');
  await stack('down', redisService);
  try {
    // the process's own checkpoints once Redis is gone; no write can move them from here
    const standing = reportedCheckpoints(await scrape(url));
    const at = (key: string) => [standing.get(key), stored.get(key)].reduce<bigint>((max, next) => (next !== undefined && next > max ? next : max), 0n);
    let retriedWhenWaiting: number | undefined;
    await waitFor('records to wait past the checkpoints while the sink retries', async () => {
      await runWorkload(db, { statements: 50, tag: tag('outage') });
      const ends = await endOffsets(admin, redisTopics);
      const samples = await scrape(url);
      if (![...ends].some(([key, end]) => end > at(key))) return undefined;
      retriedWhenWaiting ??= retries(samples, 'sink');
      // tried again and failed twice while records waited
      return retries(samples, 'sink') >= retriedWhenWaiting + 2 ? true : undefined;
    }, 120_000);
    const samples = await scrape(url);
    assert.deepEqual(reportedCheckpoints(samples), standing, 'no checkpoint moved while Redis was down');
    assert.ok(retries(samples, 'sink') > retriedBefore, 'nova_projector_retries_total{stage="sink"} grew');
  } finally {
    await stack('up', redisService);
  }
  await settled();
  await assertMatchesPostgres(redis, generation, db);
  assert.equal(projector, same);
  assert.ok(same.child.exitCode === null && same.child.signalCode === null, 'the same projector process rode out the outage');
});

test('1,000 updates to one row in a burst: the store ends with the last value', { timeout: 120_000 }, async () => {
  running();
  const user = await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [tag('burst')]);
  const stream = await db.query(`INSERT INTO live_streams (user_id, title, rtmp_url) VALUES ($1, 'title 0', 'rtmp://x') RETURNING id`, [user.rows[0].id]);
  const id = stream.rows[0].id;
  for (let i = 1; i <= 1000; i++) await db.query(`UPDATE live_streams SET title = $2 WHERE id = $1`, [id, `title ${i}`]);
  await settled();
  assert.equal(JSON.parse((await redis.get(keys.streamMeta(id))) ?? '{}').title, 'title 1000');
});

test('SIGTERM with a batch in flight: the process finishes that batch, stores its checkpoints, exits 0, and the restart starts exactly there', { timeout: 300_000 }, async (t) => {
  const stopping = running();
  const url = await metricsUrl(stopping);
  const workload = runWorkload(db, { statements: 3_000, tag: tag('sigterm') });
  // moving: the stored checkpoints grew since the workload began
  const seen = await appliedRecords(redis, generation);
  await waitFor('the checkpoints to move', async () => ((await appliedRecords(redis, generation)) > seen ? true : undefined), 120_000);
  // hold the next batch's script in Redis (CLIENT PAUSE WRITE postpones scripts, not reads),
  // so that the signal lands while a batch is in flight, for sure
  const probe = new pg.Client({ connectionString: env('DATABASE_URL') });
  await probe.connect();
  const nodes = masters(redis);
  await Promise.all(nodes.map((node) => node.call('CLIENT', 'PAUSE', '60000', 'WRITE')));
  let atSignal: Map<string, bigint>;
  try {
    // this generation's script (the pause holds every client's; the sink names its connection); written to until one comes
    const held = new RegExp(`name=${sinkConnectionName('redis', generation)} .*flags=\\w*b\\w* .*cmd=evalsha`);
    await waitFor('a batch script of this generation held by the pause', async () => {
      for (const node of nodes) if (held.test(String(await node.call('CLIENT', 'LIST')))) return true;
      // its own connection: the workload's transactions run on db meanwhile
      await probe.query(`UPDATE live_streams SET viewer_count = viewer_count + 1 WHERE id = (SELECT max(id) FROM live_streams)`);
      return undefined;
    }, 60_000);
    atSignal = await storedCheckpoints(redis, generation);
    stopping.child.kill('SIGTERM');
    await waitFor('the process to take the signal', async () => (logLines(stopping, 'stopping after the batch in flight').length > 0 ? true : undefined));
  } finally {
    await Promise.all(nodes.map((node) => node.call('CLIENT', 'UNPAUSE')));
    await probe.end();
  }
  // what the process says it stored, read until it closes its endpoint on the way out
  let reported = new Map<string, bigint>();
  for (;;) {
    try {
      reported = reportedCheckpoints(await scrape(url));
    } catch {
      break;
    }
  }
  assert.equal(await stopping.exited, 0);
  const stored = await storedCheckpoints(redis, generation);
  const finished = [...stored].filter(([key, next]) => next > (atSignal.get(key) ?? 0n));
  assert.ok(finished.length > 0, 'the batch held at the signal was applied and its checkpoints stored before the exit');
  const uncovered = [...reported].filter(([key, next]) => (stored.get(key) ?? 0n) < next).map(([key, next]) => `${key}: reported ${next}, stored ${stored.get(key)}`);
  assert.deepEqual(uncovered, [], 'the stored checkpoints cover the last batch it reported');
  t.diagnostic(`after the signal: checkpoints of ${finished.map(([key, next]) => `${key} ${atSignal.get(key) ?? 0n} -> ${next}`).join(', ')}`);
  await workload;
  await assertResumedExactly(start(), stored);
  await assertMatchesPostgres(redis, generation, db);
});

test("killed right after a batch's one script, before the runtime records it: the restart neither applies it again nor passes over anything", { timeout: 300_000 }, async () => {
  // the checkpoint is the batch's last write, after every tag's script; what this proves is
  // that the store alone (not Kafka's committed offsets, which never heard of the batch)
  // decides where to resume
  if (projector) await stopProjector(projector);
  await runWorkload(db, { statements: 1_000, tag: tag('crash') });
  const before = await storedCheckpoints(redis, generation);
  const crashing = startCrashingProjector(fileURLToPath(new URL('./test/crash-fixture.ts', import.meta.url)), own.generation);
  try {
    await crashing.exited;
  } finally {
    if (crashing.child.exitCode === null && crashing.child.signalCode === null) await kill9(crashing);
  }
  assert.equal(crashing.child.signalCode, 'SIGKILL', outputTail(crashing));
  const [line] = logLines(crashing, 'script returned');
  const wrote = (line?.checkpoints ?? []) as Array<{ topic: string; partition: number; nextOffset: string }>;
  assert.ok(wrote.length > 0, `the crashing process wrote a batch: ${outputTail(crashing)}`);
  const stored = await checkpointsAtRest();
  const committed = new Map<string, bigint>();
  for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group, topics: redisTopics })) for (const p of partitions) committed.set(`${topic}:${p.partition}`, BigInt(p.offset));
  for (const { topic, partition, nextOffset } of wrote) {
    const key = `${topic}:${partition}`;
    assert.equal(stored.get(key), BigInt(nextOffset), `${key}: the batch's checkpoint is stored with its effects`);
    assert.ok(BigInt(nextOffset) > (before.get(key) ?? 0n), `${key}: the batch moved it`);
    assert.ok((committed.get(key) ?? -1n) < BigInt(nextOffset), `${key}: Kafka's committed offset never heard of the batch`);
  }
  await assertResumedExactly(start(), stored);
  await assertMatchesPostgres(redis, generation, db);
});
