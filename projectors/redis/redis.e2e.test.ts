// The Redis projector end to end: a mixed workload through the real pipeline while the
// projector is kill -9ed and restarted; then every Redis key must equal what PostgreSQL
// says. Also: a replay from the earliest offset leaves the keys byte-identical, and a
// garbage record goes to the dead-letter topic while later records are applied.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, stack, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic } from '../runtime/dead-letter.ts';
import { replayDeadLetters } from '../runtime/dead-letter-replay.ts';
import { captureTopics } from '../runtime/testing/kafka-capture.ts';
import { kill9, startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { checkpointKey } from './sink.ts';
import { assertMatchesPostgres, caughtUp } from './test/harness.ts';
import { actualFromRedis } from './drift.ts';
import { claimDatabase } from './test/own-database.ts';
import { runWorkload } from './test/workload.ts';

// a generation (Redis database) of this run's own, so the live one is never touched
const own = await claimDatabase(env('REDIS_URL'));
const { redis } = own;
const args = ['--generation', String(own.generation), '--shadow', '--max-batch', '500'];
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
redis.on('error', () => {}); // the outage test stops Redis under it; commands still fail loudly
const kafka = new Kafka({ clientId: 'nova-redis-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
let projector: ProjectorProcess | undefined;

before(() => db.connect());

after(async () => {
  if (projector) await kill9(projector);
  await own.release();
  await db.end();
});

const projectorLogTail = () => (projector?.output.join('').split('\n').slice(-20).join('\n') ?? '');

test('20,000 writes with five kill -9s: every key equals what PostgreSQL says', { timeout: 600_000 }, async (t) => {
  t.after(() => t.diagnostic(`last projector output:\n${projectorLogTail()}`));
  projector = startProjector('redis', args);
  let kills = 0;
  await runWorkload(db, {
    statements: 20_000,
    tag: `e2e-${randomUUID().slice(0, 8)}`,
    onProgress: async (done) => {
      // kill at five points spread over the run, restart at once
      if (kills < 5 && done >= (kills + 1) * 3_500) {
        kills++;
        await kill9(projector as ProjectorProcess);
        projector = startProjector('redis', args);
      }
    },
  });
  assert.equal(kills, 5);
  await caughtUp(redis, kafka, db);
  await assertMatchesPostgres(redis, db);
});

test('a replay from the earliest offset leaves every key byte-identical', { timeout: 300_000 }, async () => {
  const before = await actualFromRedis(redis);
  await kill9(projector as ProjectorProcess);
  await redis.del(checkpointKey('redis'));
  projector = startProjector('redis', args);
  await caughtUp(redis, kafka, db);
  assert.deepEqual(await actualFromRedis(redis), before);
});

test('a garbage record goes to the dead-letter topic with its reason; later records are applied', { timeout: 120_000 }, async () => {
  const producer = kafka.producer();
  await producer.connect();
  const junk = `not avro ${randomUUID()}`;
  const garbage = await producer.send({ topic: 'nova.live.live_streams', messages: [{ key: 'not avro', value: junk, partition: 0 }] });
  await producer.disconnect();
  const user = await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`dlq-${randomUUID().slice(0, 8)}`]);
  const stream = await db.query(`INSERT INTO live_streams (user_id, title, rtmp_url, status, started_at) VALUES ($1, 'after garbage', 'rtmp://x', 'live', now()) RETURNING id`, [user.rows[0].id]);

  const [dead] = await captureTopics({
    brokers: env('KAFKA_BROKERS'),
    topics: [deadLetterTopic('redis')],
    until: (records) => records.some((r) => r.value?.toString() === junk),
  }).then((records) => records.filter((r) => r.value?.toString() === junk));
  assert.ok(dead, 'the garbage record is in the dead-letter topic');
  const consumer = kafka.consumer({ groupId: `nova-dlq-check-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: deadLetterTopic('redis'), fromBeginning: true });
  const headers = await new Promise<Record<string, string>>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString() !== junk) return;
        resolve(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
      },
    });
  });
  await consumer.disconnect();
  assert.equal(headers[deadLetterHeaders.topic], 'nova.live.live_streams');
  assert.equal(headers[deadLetterHeaders.offset], garbage[0]?.baseOffset);
  assert.equal(headers[deadLetterHeaders.code], 'NOVA_D1001');
  assert.match(headers[deadLetterHeaders.reason] ?? '', /Confluent wire format/);
  const listed: string[] = [];
  await replayDeadLetters({ kafka, projector: 'redis', dryRun: true, onLetter: (line) => listed.push(line) });
  assert.ok(listed.some((line) => line.includes(`from nova.live.live_streams[0]@${garbage[0]?.baseOffset}`)), 'dlq-replay finds the letter and where it came from');
  await waitFor('the stream after the garbage to be live in Redis', async () =>
    (await redis.zscore('stream:live', String(stream.rows[0].id))) !== null ? true : undefined,
  );
});

test('Redis stopped mid-run and restarted: the projector retries, resumes and converges', { timeout: 300_000 }, async () => {
  const running = projector as ProjectorProcess;
  const workload = runWorkload(db, { statements: 2_000, tag: `outage-${randomUUID().slice(0, 8)}` });
  await stack('down', 'redis');
  await workload;
  await stack('up', 'redis');
  await caughtUp(redis, kafka, db);
  await assertMatchesPostgres(redis, db);
  assert.equal(running.child.exitCode, null, 'the same projector process rode out the outage');
  assert.match(running.output.join(''), /transient failure, retrying/);
});

test('1,000 updates to one row in a burst: the store ends with the last value', { timeout: 120_000 }, async () => {
  const user = await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`burst-${randomUUID().slice(0, 8)}`]);
  const stream = await db.query(`INSERT INTO live_streams (user_id, title, rtmp_url) VALUES ($1, 'title 0', 'rtmp://x') RETURNING id`, [user.rows[0].id]);
  const id = stream.rows[0].id;
  for (let i = 1; i <= 1000; i++) await db.query(`UPDATE live_streams SET title = $2 WHERE id = $1`, [id, `title ${i}`]);
  await caughtUp(redis, kafka, db);
  assert.equal(JSON.parse((await redis.get(`stream:meta:${id}`)) ?? '{}').title, 'title 1000');
});

test('SIGTERM finishes the batch in flight, checkpoints and exits 0', { timeout: 120_000 }, async () => {
  const running = projector as ProjectorProcess;
  const workload = runWorkload(db, { statements: 500, tag: `sigterm-${randomUUID().slice(0, 8)}` });
  running.child.kill('SIGTERM');
  assert.equal(await running.exited, 0);
  await workload;
  projector = startProjector('redis', args);
  await caughtUp(redis, kafka, db);
  await assertMatchesPostgres(redis, db);
});
