// What the Redis projector's end-to-end tests share: waiting for it to catch up, and
// comparing every key with what PostgreSQL says.
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { redisTopics } from '../mapping/index.ts';
import { checkpointKey } from '../sink.ts';
import { actualFromRedis, expectedFromPostgres } from '../drift.ts';

/**
 * Until everything committed in PostgreSQL so far is in the Redis view: first Debezium's slot
 * confirms the current WAL position (it is all in Kafka; a heartbeat moves it within ~10 s),
 * then the projector's checkpoints reach the end of every partition it reads.
 */
export async function caughtUp(redis: Redis, kafka: Kafka, db: pg.Client, timeoutMs = 180_000): Promise<void> {
  const { rows } = await db.query('SELECT pg_current_wal_lsn() AS lsn');
  await waitFor('Debezium to publish every committed change', async () => {
    const slot = await db.query(`SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = 'nova_cdc'`, [rows[0].lsn]);
    return slot.rows[0]?.done ? true : undefined;
  }, timeoutMs);
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
  const first = missing[0];
  const detail = first ? `\nfirst: ${first[0]}\n expected ${first[1].slice(0, 600)}\n actual   ${(actual.find(([k]) => k === first[0])?.[1] ?? '(absent)').slice(0, 600)}` : '';
  assert.ok(missing.length === 0 && extra.length === 0, `${missing.length} keys missing or wrong, ${extra.length} extra${detail}`);
  return actual;
}
