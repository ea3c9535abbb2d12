// The Redis projector end to end: a mixed workload through the real pipeline while the
// projector is kill -9ed and restarted; then every Redis key must equal what PostgreSQL
// says. Also: a replay from the earliest offset leaves the keys byte-identical, and a
// garbage record goes to the dead-letter topic while later records are applied.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic } from '../runtime/dead-letter.ts';
import { captureTopics } from '../runtime/testing/kafka-capture.ts';
import { kill9, startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { redisTopics } from './mapping/index.ts';
import { checkpointKey } from './sink.ts';
import { actualFromRedis, expectedFromPostgres } from './test/oracle.ts';
import { runWorkload } from './test/workload.ts';

// a generation (Redis database) of this run's own, so the live one is never touched
const generation = randomInt(2, 15);
const args = ['--generation', String(generation), '--max-batch', '500'];
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const redis = new Redis(env('REDIS_URL'), { db: generation });
const kafka = new Kafka({ clientId: 'nova-redis-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
let projector: ProjectorProcess | undefined;

before(async () => {
  await db.connect();
  await redis.flushdb();
});

after(async () => {
  if (projector) await kill9(projector);
  await redis.flushdb();
  redis.disconnect();
  await db.end();
});

/** Until the projector's checkpoints reach the end of every partition it reads. */
async function caughtUp(timeoutMs = 180_000) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor('the projector to catch up', async () => {
      const saved = await redis.hgetall(checkpointKey('redis'));
      for (const topic of redisTopics) {
        for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
          if (high === low) continue;
          const next = saved[`${topic}:${partition}`] ? JSON.parse(saved[`${topic}:${partition}`] as string).nextOffset : '0';
          if (BigInt(next) < BigInt(high)) return undefined;
        }
      }
      return true;
    }, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

async function assertMatchesPostgres() {
  const [expected, actual] = [await expectedFromPostgres(db), await actualFromRedis(redis)];
  const missing = expected.filter(([k, v]) => !actual.some(([k2, v2]) => k2 === k && v2 === v));
  const extra = actual.filter(([k, v]) => !expected.some(([k2, v2]) => k2 === k && v2 === v));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] }, `${missing.length} keys missing or wrong, ${extra.length} extra`);
  return actual;
}

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
  await caughtUp();
  await assertMatchesPostgres();
});

test('a replay from the earliest offset leaves every key byte-identical', { timeout: 300_000 }, async () => {
  const before = await actualFromRedis(redis);
  await kill9(projector as ProjectorProcess);
  await redis.del(checkpointKey('redis'));
  projector = startProjector('redis', args);
  await caughtUp();
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
  await waitFor('the stream after the garbage to be live in Redis', async () =>
    (await redis.zscore('stream:live', String(stream.rows[0].id))) !== null ? true : undefined,
  );
});
