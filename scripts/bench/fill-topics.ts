// Makes a projector's topics hold at least N records: reuses what they hold, else inserts the
// shortfall through PostgreSQL in set-based statements and waits for Debezium to produce it.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Admin } from 'kafkajs';
import pg from 'pg';
import { bulkInserts, ensureFixture, fillBatchRows, tablesFor, topicOf, type Table } from './bench-rows.ts';
import { progress, secondsSince } from './measure.ts';
import { heldRanges, lastRecords, total, waitForGrowth, type PartitionRange } from './topic-ranges.ts';

export type Fill = { rows: Partial<Record<Table, number>>; insertSeconds: number; totalSeconds: number };

/** Inserts about `rows` rows over the projector's tables, in their shares; returns the rows inserted per table. */
async function insertRows(databaseUrl: string, projector: string, rows: number): Promise<Partial<Record<Table, number>>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { fixture, inserted } = await ensureFixture(db);
    const tag = randomUUID().slice(0, 8);
    const show = progress(`fill ${projector}: rows inserted`, rows);
    const plan = tablesFor[projector] ?? [];
    let done = 0;
    for (const [i, { table, share }] of plan.entries()) {
      // the last table takes whatever the others could not insert (follow pairs can run out)
      const want = i === plan.length - 1 ? rows - done : Math.round(rows * share);
      for (let got = 0; got < want; ) {
        const n = await bulkInserts[table](db, fixture, Math.min(fillBatchRows, want - got), `${tag}${got}`);
        if (n === 0) break;
        got += n;
        done += n;
        inserted[table] = (inserted[table] ?? 0) + n;
        show(done);
      }
    }
    return inserted;
  } finally {
    await db.end();
  }
}

/**
 * The last `count` records of the projector's topics, inserting rows first when they hold
 * fewer. Returns the ranges and how the fill went (null: the topics held enough already).
 */
export async function recordsFor(admin: Admin, options: { projector: string; topics: string[]; count: number; databaseUrl: string }): Promise<{ ranges: PartitionRange[]; fill: Fill | null }> {
  const { projector, topics, count, databaseUrl } = options;
  const held = await heldRanges(admin, topics);
  if (total(held) >= count) return { ranges: lastRecords(held, count), fill: null };
  const startedAt = performance.now();
  const watched = [...new Set([...topics, ...Object.values(topicOf)])];
  const before = await heldRanges(admin, watched);
  const rows = await insertRows(databaseUrl, projector, count - total(held));
  const insertSeconds = secondsSince(startedAt);
  const growth = new Map<string, number>();
  for (const [table, n] of Object.entries(rows)) if (n) growth.set(topicOf[table as Table], (growth.get(topicOf[table as Table]) ?? 0) + n);
  await waitForGrowth(admin, before, growth);
  const now = await heldRanges(admin, topics);
  return { ranges: lastRecords(now, count), fill: { rows, insertSeconds, totalSeconds: secondsSince(startedAt) } };
}
