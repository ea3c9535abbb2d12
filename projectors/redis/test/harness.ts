// What the Redis projector's end-to-end tests share: waiting for it to catch up, and
// comparing every key with what PostgreSQL says.
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { redisTopics } from '../mapping/index.ts';
import { checkpointKey } from '../sink.ts';
import { actualFromRedis, expectedFromPostgres } from './oracle.ts';

/** Until the projector's checkpoints reach the end of every partition it reads. */
export async function caughtUp(redis: Redis, kafka: Kafka, timeoutMs = 180_000): Promise<void> {
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

/** Every projected key equals its PostgreSQL oracle; a short diff otherwise. Returns the keys. */
export async function assertMatchesPostgres(redis: Redis, db: pg.Client) {
  const [expected, actual] = [await expectedFromPostgres(db), await actualFromRedis(redis)];
  const has = (list: typeof actual, [k, v]: [string, string]) => list.some(([k2, v2]) => k2 === k && v2 === v);
  const missing = expected.filter((e) => !has(actual, e));
  const extra = actual.filter((a) => !has(expected, a));
  assert.deepEqual({ missing: missing.slice(0, 5), extra: extra.slice(0, 5) }, { missing: [], extra: [] }, `${missing.length} keys missing or wrong, ${extra.length} extra`);
  return actual;
}
