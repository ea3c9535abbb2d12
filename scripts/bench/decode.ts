// What decoding costs a projector: one range of real Debezium records, read in this process
// with identical consumer settings, once as bytes only (the ceiling kafkajs allows) and once
// through the real decoder. The pair runs twice in opposite orders, so neither pass always
// gets the colder JIT or the colder page cache.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { createDecoder, registryLookup } from '../../projectors/runtime/decode/index.ts';
import { loadReaderSchemas } from '../../schemas/avro/reader-schemas.ts';

export const fillableTopic = 'nova.user.user_interactions';

type PartitionRange = { partition: number; start: number; end: number };
type Range = { topic: string; partitions: PartitionRange[] };
type Fill = { insertSeconds: number; totalSeconds: number };
type Handle = (topic: string, partition: number, messages: KafkaMessage[]) => Promise<void>;
type Measured = { records: number; seconds: number; cpuSeconds: number };
type Pass = Measured & { pass: 'raw' | 'decode'; bytes?: number; inDecodeSeconds?: number; decoded?: Record<string, number> };

const fillBatchRows = 20_000;
const stalledAfterMs = 60_000;
// the same for both passes, so only the per-message work differs
const consumerSettings = { maxBytes: 10 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024, minBytes: 1, maxWaitTimeInMs: 100 };

const total = (parts: PartitionRange[]) => parts.reduce((n, p) => n + p.end - p.start, 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const secondsSince = (startMs: number) => (performance.now() - startMs) / 1000;

/** Prints `label: done/total` on stderr at most once a second, and always at the end. */
function progress(label: string, of: number): (done: number) => void {
  let shownAt = -Infinity;
  return (done) => {
    if (done < of && performance.now() - shownAt < 1000) return;
    shownAt = performance.now();
    process.stderr.write(`${label}: ${done.toLocaleString('en')}/${of.toLocaleString('en')}\n`);
  };
}

async function heldRecords(admin: Admin, topic: string): Promise<PartitionRange[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map((o) => ({ partition: o.partition, start: Number(o.low), end: Number(o.high) })).sort((a, b) => a.partition - b.partition);
}

/** The last `count` records of `parts`, taken from each partition in proportion to what it holds. */
function lastRecords(parts: PartitionRange[], count: number): PartitionRange[] {
  const available = total(parts);
  const picks = parts.map((p) => ({ ...p, take: Math.floor(((p.end - p.start) * count) / available) }));
  let missing = count - picks.reduce((n, p) => n + p.take, 0);
  while (missing > 0) {
    for (const p of picks) if (missing > 0 && p.take < p.end - p.start) (p.take += 1), (missing -= 1);
  }
  return picks.map((p) => ({ partition: p.partition, start: p.end - p.take, end: p.end }));
}

// one statement per batch: Debezium sees ordinary multi-row transactions, as from a bulk writer
const insertInteractions = `
  INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value, metadata)
  SELECT $1, 'post', g, (ARRAY['view', 'like', 'comment', 'share'])[1 + g % 4], (g % 100) / 10.0,
         jsonb_build_object('source', 'bench', 'rank', g % 50)
    FROM generate_series(1, $2::int) AS g`;

async function insertInteractionRows(databaseUrl: string, rows: number): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(`INSERT INTO users (username) VALUES ('bench-decode') ON CONFLICT (username) DO NOTHING`);
    const { rows: [user] } = await db.query(`SELECT id FROM users WHERE username = 'bench-decode'`);
    const show = progress('fill: rows inserted', rows);
    for (let done = 0; done < rows; ) {
      const batch = Math.min(fillBatchRows, rows - done);
      await db.query(insertInteractions, [user.id, batch]);
      show((done += batch));
    }
  } finally {
    await db.end();
  }
}

/** Waits until the topic holds `count` records past `before`'s ends; returns those records. */
async function waitForGrowth(admin: Admin, topic: string, before: PartitionRange[], count: number): Promise<PartitionRange[]> {
  const previousEnd = new Map(before.map((p) => [p.partition, p.end]));
  const show = progress('fill: records produced by Debezium', count);
  let seen = -1;
  let lastGrowthAt = performance.now();
  for (;;) {
    const grown = (await heldRecords(admin, topic)).map((p) => ({ ...p, start: Math.max(p.start, previousEnd.get(p.partition) ?? p.start) }));
    const produced = total(grown);
    show(produced);
    if (produced >= count) return grown;
    if (produced > seen) (seen = produced), (lastGrowthAt = performance.now());
    if (performance.now() - lastGrowthAt > stalledAfterMs) {
      throw new Error(`Debezium produced ${produced} of ${count} records to ${topic}, then nothing for ${stalledAfterMs / 1000} s: is the connector running? (scripts/nova connector status)`);
    }
    await sleep(250);
  }
}

/** The topic's last `count` records, inserting them through PostgreSQL first when it holds fewer. */
async function benchRange(admin: Admin, options: { topic: string; count: number; databaseUrl: string }): Promise<{ range: Range; fill: Fill | null }> {
  const { topic, count, databaseUrl } = options;
  const held = await heldRecords(admin, topic);
  if (total(held) >= count) return { range: { topic, partitions: lastRecords(held, count) }, fill: null };
  if (topic !== fillableTopic) throw new Error(`${topic} holds ${total(held)} records, fewer than ${count}, and only ${fillableTopic} can be filled`);
  const startedAt = performance.now();
  await insertInteractionRows(databaseUrl, count);
  const insertSeconds = secondsSince(startedAt);
  const produced = await waitForGrowth(admin, topic, held, count);
  return { range: { topic, partitions: lastRecords(produced, count) }, fill: { insertSeconds, totalSeconds: secondsSince(startedAt) } };
}

/**
 * Reads exactly `range` with a fresh group and no commits, handing each batch to `handle`.
 * The clock starts at the first batch, so joining the group is not counted.
 */
async function consumeRange(kafka: Kafka, range: Range, label: string, handle: Handle): Promise<Measured> {
  const ends = new Map(range.partitions.filter((p) => p.end > p.start).map((p) => [p.partition, p.end]));
  const show = progress(label, total(range.partitions));
  const consumer = kafka.consumer({ groupId: `nova-bench-${randomUUID()}`, ...consumerSettings });
  let records = 0;
  let clock: { wallMs: number; cpu: NodeJS.CpuUsage } | undefined;
  let finish: (measured: Measured) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const finished = new Promise<Measured>((resolve, reject) => ((finish = resolve), (fail = reject)));
  consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [range.topic] });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        clock ??= { wallMs: performance.now(), cpu: process.cpuUsage() };
        const end = ends.get(batch.partition);
        if (end === undefined) return;
        const messages = batch.messages.filter((m) => Number(m.offset) < end);
        await handle(batch.topic, batch.partition, messages);
        show((records += messages.length));
        resolveOffset(batch.lastOffset());
        if (Number(batch.lastOffset()) + 1 >= end) ends.delete(batch.partition);
        if (ends.size === 0) finish({ records, seconds: secondsSince(clock.wallMs), cpuSeconds: cpuSecondsSince(clock.cpu) });
      },
    });
    for (const p of range.partitions) consumer.seek({ topic: range.topic, partition: p.partition, offset: String(p.start) });
    return await finished;
  } finally {
    await consumer.disconnect();
  }
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1e6;
}

async function rawPass(kafka: Kafka, range: Range, label: string): Promise<Pass> {
  let bytes = 0;
  const measured = await consumeRange(kafka, range, label, async (_topic, _partition, messages) => {
    for (const m of messages) bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
  });
  return { pass: 'raw', ...measured, bytes };
}

const readerSchemas = loadReaderSchemas();

/** A fresh decoder per pass: its first record fetches the writer schemas from the registry. */
async function decodePass(kafka: Kafka, range: Range, registryUrl: string, label: string): Promise<Pass> {
  const decode = createDecoder({ lookupSchema: registryLookup({ url: registryUrl }), readerSchemas });
  const decoded: Record<string, number> = {};
  let inDecodeMs = 0;
  const measured = await consumeRange(kafka, range, label, async (topic, partition, messages) => {
    for (const m of messages) {
      const startedAt = performance.now();
      const result = await decode({ topic, partition, offset: m.offset, key: m.key, value: m.value });
      inDecodeMs += performance.now() - startedAt;
      const kind = result.kind === 'change' ? result.op : result.kind;
      decoded[kind] = (decoded[kind] ?? 0) + 1;
    }
  });
  return { pass: 'decode', ...measured, inDecodeSeconds: inDecodeMs / 1000, decoded };
}

function comparePair(order: string, passes: Pass[]) {
  const raw = passes.find((p) => p.pass === 'raw') as Pass;
  const decode = passes.find((p) => p.pass === 'decode') as Pass;
  const perRecordUs = (seconds: number) => round((seconds / decode.records) * 1e6, 2);
  return {
    order,
    records: raw.records,
    raw: { seconds: round(raw.seconds, 3), recordsPerSecond: Math.round(raw.records / raw.seconds), cpuUsPerRecord: perRecordUs(raw.cpuSeconds), megabytes: round((raw.bytes ?? 0) / 1e6, 1) },
    decode: { seconds: round(decode.seconds, 3), recordsPerSecond: Math.round(decode.records / decode.seconds), cpuUsPerRecord: perRecordUs(decode.cpuSeconds), decoded: decode.decoded },
    decodeOverRawSeconds: round(decode.seconds / raw.seconds, 2),
    inDecodeUsPerRecord: perRecordUs(decode.inDecodeSeconds ?? 0),
    cpuDifferenceUsPerRecord: perRecordUs(decode.cpuSeconds - raw.cpuSeconds),
  };
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

type Pair = ReturnType<typeof comparePair>;

function printPair(pair: Pair, name: string): void {
  const { raw, decode } = pair;
  console.log(`${name} (${pair.order}), ${pair.records} records:`);
  console.log(`  raw consume     ${raw.seconds.toFixed(3)} s  ${raw.recordsPerSecond} records/s  cpu ${raw.cpuUsPerRecord} µs/record  ${raw.megabytes} MB`);
  console.log(`  consume+decode  ${decode.seconds.toFixed(3)} s  ${decode.recordsPerSecond} records/s  cpu ${decode.cpuUsPerRecord} µs/record  ${JSON.stringify(decode.decoded)}`);
  console.log(`  decode/raw time ${pair.decodeOverRawSeconds}x; inside decode calls ${pair.inDecodeUsPerRecord} µs/record; cpu difference ${pair.cpuDifferenceUsPerRecord} µs/record`);
}

function describeRange(range: Range, fill: Fill | null): string {
  const source = fill
    ? `filled in ${fill.totalSeconds.toFixed(1)} s (rows inserted in ${fill.insertSeconds.toFixed(1)} s, Debezium done ${(fill.totalSeconds - fill.insertSeconds).toFixed(1)} s later)`
    : 'already in the topic, no fill';
  return `range: last ${total(range.partitions)} records of ${range.topic} over ${range.partitions.length} partitions, ${source}`;
}

export async function benchDecode(options: { records: number; topic: string; brokers: string; registryUrl: string; databaseUrl: string }): Promise<void> {
  const { records, topic, brokers, registryUrl, databaseUrl } = options;
  const kafka = new Kafka({ clientId: 'nova-bench-decode', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const { range, fill } = await benchRange(admin, { topic, count: records, databaseUrl }).finally(() => admin.disconnect());
  console.log(describeRange(range, fill));

  const raw = (n: number) => rawPass(kafka, range, `pass ${n} raw: records`);
  const decode = (n: number) => decodePass(kafka, range, registryUrl, `pass ${n} decode: records`);
  const first = comparePair('raw then decode', [await raw(1), await decode(2)]);
  const second = comparePair('decode then raw', [await decode(3), await raw(4)]);
  printPair(first, 'pair 1');
  printPair(second, 'pair 2, warm');
  console.log(JSON.stringify({ bench: 'decode', topic, records: total(range.partitions), fill, pairs: [first, second], consumerSettings }));
}
