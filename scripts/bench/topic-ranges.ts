// Ranges of offsets over several topics: what they hold, the last N records of them, waiting
// until Debezium has produced what was inserted, and reading a range back as raw records.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Admin, Kafka } from 'kafkajs';
import type { RawRecord } from '../../projectors/runtime/decode/index.ts';
import { progress, sleep } from './measure.ts';

/** Offsets [start, end) of one partition. */
export type PartitionRange = { topic: string; partition: number; start: number; end: number };

export const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;
export const total = (ranges: PartitionRange[]) => ranges.reduce((n, r) => n + r.end - r.start, 0);

const stalledAfterMs = 60_000;

/** Everything the topics hold now: from each partition's earliest retained offset to its end. */
export async function heldRanges(admin: Admin, topics: string[]): Promise<PartitionRange[]> {
  const ranges: PartitionRange[] = [];
  for (const topic of topics) {
    for (const o of await admin.fetchTopicOffsets(topic)) ranges.push({ topic, partition: o.partition, start: Number(o.low), end: Number(o.high) });
  }
  return ranges.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** The last `count` records of `ranges`, taken from each partition in proportion to what it holds. */
export function lastRecords(ranges: PartitionRange[], count: number): PartitionRange[] {
  const available = total(ranges);
  if (available <= count) return ranges;
  const picks = ranges.map((r) => ({ ...r, take: Math.floor(((r.end - r.start) * count) / available) }));
  let missing = count - picks.reduce((n, p) => n + p.take, 0);
  while (missing > 0) {
    for (const p of picks) if (missing > 0 && p.take < p.end - p.start) (p.take += 1), (missing -= 1);
  }
  return picks.map(({ take, ...r }) => ({ ...r, start: r.end - take }));
}

/** Waits until each topic's end offsets grew by `growth` records past `before`; returns the new ends. */
export async function waitForGrowth(admin: Admin, before: PartitionRange[], growth: Map<string, number>): Promise<PartitionRange[]> {
  const topics = [...growth.keys()];
  const wanted = [...growth.values()].reduce((a, b) => a + b, 0);
  const previousEnd = new Map(before.map((r) => [partitionKey(r.topic, r.partition), r.end]));
  const show = progress('fill: records produced by Debezium', wanted);
  let seen = -1;
  let lastGrowthAt = performance.now();
  for (;;) {
    const now = await heldRanges(admin, topics);
    const grownBy = (topic: string) => now.filter((r) => r.topic === topic).reduce((n, r) => n + r.end - (previousEnd.get(partitionKey(r.topic, r.partition)) ?? r.start), 0);
    const produced = topics.reduce((n, topic) => n + Math.min(grownBy(topic), growth.get(topic) ?? 0), 0);
    show(produced);
    if (produced >= wanted) return now;
    if (produced > seen) (seen = produced), (lastGrowthAt = performance.now());
    if (performance.now() - lastGrowthAt > stalledAfterMs) {
      throw new Error(`Debezium produced ${produced} of ${wanted} records to ${topics.join(', ')}, then nothing for ${stalledAfterMs / 1000} s: is the connector running? (scripts/nova connector status)`);
    }
    await sleep(250);
  }
}

/** Reads exactly `ranges` with a fresh group and no commits; records per partition, in offset order. */
export async function readRanges(kafka: Kafka, ranges: PartitionRange[], label: string): Promise<Map<string, RawRecord[]>> {
  const wanted = ranges.filter((r) => r.end > r.start);
  const ends = new Map(wanted.map((r) => [partitionKey(r.topic, r.partition), r.end]));
  const records = new Map<string, RawRecord[]>(wanted.map((r) => [partitionKey(r.topic, r.partition), []]));
  const show = progress(label, total(wanted));
  let read = 0;
  const groupId = `nova-bench-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 10 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024, maxWaitTimeInMs: 100 });
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
  if (wanted.length === 0) finish();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(wanted.map((r) => r.topic))] });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const key = partitionKey(batch.topic, batch.partition);
        const end = ends.get(key);
        if (end === undefined) return;
        const into = records.get(key) as RawRecord[];
        for (const m of batch.messages) {
          if (Number(m.offset) >= end) break;
          into.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value });
          read += 1;
        }
        show(read);
        resolveOffset(batch.lastOffset());
        if (Number(batch.lastOffset()) + 1 >= end) ends.delete(key);
        if (ends.size === 0) finish();
      },
    });
    for (const r of wanted) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
    await finished;
    return records;
  } finally {
    await consumer.disconnect();
    await deleteGroups(kafka, [groupId]);
  }
}

/** Removes consumer groups this benchmark created; a group that is already gone is fine. */
export async function deleteGroups(kafka: Kafka, groupIds: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groupIds).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
