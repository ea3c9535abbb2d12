// What the Redis projector's end-to-end tests share: its checkpoints as stored (read from the
// hash itself, not through the sink's load, which the tests check), waiting for it to catch up,
// and comparing every key with PostgreSQL.
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { caughtUp as generationCaughtUp } from '../../runtime/testing/caught-up.ts';
import type { CheckpointStore } from '../../runtime/sink.ts';
import type { RedisClient } from '../client.ts';
import { redisTopics } from '../mapping/index.ts';
import { generationPrefix } from '../reader-keys.ts';
import { checkpointKey } from '../sink.ts';
import { actualFromRedis, expectedFromPostgres } from '../drift.ts';

/** Generation N's next offset stored per `topic:partition`. */
export async function storedCheckpoints(redis: RedisClient, generation: number): Promise<Map<string, bigint>> {
  const saved = await redis.hgetall(generationPrefix(generation) + checkpointKey('redis'));
  return new Map(Object.entries(saved).map(([field, value]) => [field, BigInt((JSON.parse(value) as { nextOffset: string }).nextOffset)]));
}

/** Records applied so far: the sum of the stored next offsets. */
export const appliedRecords = async (redis: RedisClient, generation: number) => [...(await storedCheckpoints(redis, generation)).values()].reduce((sum, next) => sum + next, 0n);

const storeOf = (redis: RedisClient, generation: number): CheckpointStore => ({
  load: async () =>
    [...(await storedCheckpoints(redis, generation))].map(([field, next]) => {
      const split = field.lastIndexOf(':');
      return { topic: field.slice(0, split), partition: Number(field.slice(split + 1)), nextOffset: String(next), commitOrder: null };
    }),
});

/** Until everything committed in PostgreSQL so far is in generation N's Redis view (runtime/testing/caught-up.ts). */
export async function caughtUp(redis: RedisClient, generation: number, kafka: Kafka, db: pg.Client, timeoutMs = 180_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await generationCaughtUp({ db, admin, store: storeOf(redis, generation), topics: redisTopics, log: () => '', timeoutMs });
  } finally {
    await admin.disconnect();
  }
}

/** Every projected key of generation N equals its PostgreSQL oracle; a short diff otherwise. Returns the keys. */
export async function assertMatchesPostgres(redis: RedisClient, generation: number, db: pg.Client) {
  const [expected, actual] = [await expectedFromPostgres(db), await actualFromRedis(redis, generation)];
  const has = (list: typeof actual, [k, v]: [string, string]) => list.some(([k2, v2]) => k2 === k && v2 === v);
  const missing = expected.filter((e) => !has(actual, e));
  const extra = actual.filter((a) => !has(expected, a));
  const first = missing[0];
  const detail = first ? `\nfirst: ${first[0]}\n expected ${first[1].slice(0, 600)}\n actual   ${(actual.find(([k]) => k === first[0])?.[1] ?? '(absent)').slice(0, 600)}` : '';
  assert.ok(missing.length === 0 && extra.length === 0, `${missing.length} keys missing or wrong, ${extra.length} extra${detail}`);
  return actual;
}
