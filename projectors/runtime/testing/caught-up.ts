// What end-to-end tests need around a projector process, whatever its store: how far it has
// applied, and waiting until its generation holds everything committed in PostgreSQL so far.
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';
import type { CheckpointStore } from '../sink.ts';

/** Records applied so far: the sum of the checkpoints' next offsets. */
export const applied = async (store: CheckpointStore) => (await store.load()).reduce((sum, c) => sum + BigInt(c.nextOffset), 0n);

/** Each non-empty partition's end offset now, as `topic:partition`. */
export async function endOffsets(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) if (high !== low) ends.set(`${topic}:${partition}`, BigInt(high));
  }
  return ends;
}

/**
 * Until everything committed in PostgreSQL so far is in the generation: first Debezium's slot
 * confirms the current WAL position (it is all in Kafka; a heartbeat moves it within ~10 s),
 * then the checkpoints reach every partition's end offset.
 */
export async function caughtUp(options: { db: pg.Client; admin: Admin; store: CheckpointStore; topics: string[]; log: () => string; timeoutMs?: number }) {
  const { db, admin, store, topics, log, timeoutMs = 180_000 } = options;
  const { rows } = await db.query('SELECT pg_current_wal_lsn() AS lsn');
  await waitFor('Debezium to publish every committed change', async () => {
    const slot = await db.query(`SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = 'nova_cdc'`, [rows[0].lsn]);
    return slot.rows[0]?.done ? true : undefined;
  }, timeoutMs);
  const ends = await endOffsets(admin, topics);
  let behind: string[] = [];
  try {
    await waitFor('the checkpoints to reach every partition end', async () => {
      const at = new Map((await store.load()).map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
      behind = [...ends].filter(([key, end]) => (at.get(key) ?? 0n) < end).map(([key, end]) => `${key} at ${at.get(key) ?? 0n} of ${end}`);
      return behind.length === 0 ? true : undefined;
    }, timeoutMs);
  } catch (error) {
    const cause = (error as Error).cause;
    const failed = cause ? `; the last read failed: ${(cause as Error).message ?? String(cause)}` : '';
    throw new Error(`${(error as Error).message}; behind: ${behind.slice(0, 5).join(', ')}${failed}\nprojector output:\n${log()}`);
  }
}

