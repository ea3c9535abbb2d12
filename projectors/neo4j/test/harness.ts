// What the Neo4j end-to-end tests share: waiting for the projector to catch up, comparing the
// graph with PostgreSQL, and telling which graph targets records after some offsets touch.
import assert from 'node:assert/strict';
import type { Driver } from 'neo4j-driver';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { loadReaderSchemas } from '../../../schemas/avro/reader-schemas.ts';
import { waitFor } from '../../../scripts/stack.d/test/stack.ts';
import { createDecoder, registryLookup } from '../../runtime/decode/index.ts';
import { captureTopics } from '../../runtime/testing/kafka-capture.ts';
import { loadCheckpoints } from '../checkpoint.ts';
import { mapToGraph, neo4jTopics } from '../mapping/index.ts';
import { readerView, differences, expectedFromPostgres, summary, usersScope } from './oracle.ts';

export type Offsets = Map<string, bigint>;

/** Each partition's end offset now, `topic:partition` -> offset. */
export async function endOffsets(admin: Admin): Promise<Offsets> {
  const ends: Offsets = new Map();
  for (const topic of neo4jTopics) for (const { partition, high } of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${partition}`, BigInt(high));
  return ends;
}

export async function checkpointOffsets(driver: Driver, projector: string, generation: number): Promise<Offsets> {
  return new Map((await loadCheckpoints(driver, { projector, generation })).map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
}

/**
 * Until everything committed in PostgreSQL so far is in the graph: Debezium's slot confirms
 * the current WAL position (it is all in Kafka), then the generation's checkpoints reach the
 * end of every partition as it was then.
 */
export async function caughtUp(options: { driver: Driver; admin: Admin; db: pg.Client; projector: string; generation: number; log?: () => string }): Promise<void> {
  const { driver, admin, db, projector, generation, log = () => '' } = options;
  const { rows } = await db.query('SELECT pg_current_wal_lsn() AS lsn');
  await waitFor('Debezium to publish every committed change', async () => {
    const slot = await db.query(`SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = 'nova_cdc'`, [rows[0].lsn]);
    return slot.rows[0]?.done ? true : undefined;
  }, 120_000);
  const ends = await endOffsets(admin);
  let behind: string[] = [];
  await waitFor('the projector to reach every partition end', async () => {
    const at = await checkpointOffsets(driver, projector, generation);
    behind = [...ends].filter(([key, end]) => end > 0n && (at.get(key) ?? 0n) < end).map(([key, end]) => `${key} at ${at.get(key) ?? 0n} of ${end}`);
    return behind.length === 0 ? true : undefined;
  }, 180_000).catch((error: Error) => {
    throw new Error(`${error.message}; behind: ${behind.slice(0, 4).join(', ')}\n${log()}`);
  });
}

/** The graph for these users equals what PostgreSQL says for them. */
export async function assertMatchesPostgres(driver: Driver, db: pg.Client, generation: number, ids: number[]): Promise<void> {
  const scope = usersScope(ids);
  const found = differences(await expectedFromPostgres(db, scope), await readerView(driver, generation, scope));
  assert.ok(found.length === 0, `generation ${generation} differs from PostgreSQL: ${summary(found)}`);
}

/**
 * The users and pairs that the records from `from` up to `to` map to (and the endpoints of
 * those pairs): all that another writer, meanwhile, can have changed in the graph.
 */
export async function targetsBetween(brokers: string, registryUrl: string, from: Offsets, to: Offsets): Promise<{ users: Set<string>; pairs: Set<string> }> {
  const expected = [...to].reduce((sum, [key, end]) => sum + Number(end - (from.get(key) ?? 0n)), 0);
  const users = new Set<string>();
  const pairs = new Set<string>();
  if (expected === 0) return { users, pairs };
  const since = new Map([...from].map(([key, offset]) => [key, String(offset)]));
  const records = await captureTopics({ brokers, topics: neo4jTopics, since, until: (seen) => seen.length >= expected, timeoutMs: 120_000 });
  const decode = createDecoder({ lookupSchema: registryLookup({ url: registryUrl }), readerSchemas: loadReaderSchemas() });
  for (const record of records) {
    const decoded = await decode(record).catch(() => undefined); // garbage: dead-lettered, changes nothing
    if (decoded?.kind !== 'change') continue;
    let ops: ReturnType<typeof mapToGraph> = [];
    try {
      ops = mapToGraph(decoded);
    } catch {
      continue; // unmappable: dead-lettered, changes nothing
    }
    for (const op of ops) {
      if (op.kind === 'user') users.add(String(op.id));
      if (op.kind === 'follows') {
        pairs.add(`${op.follower}->${op.followee}`);
        users.add(String(op.follower)).add(String(op.followee));
      }
    }
  }
  return { users, pairs };
}
