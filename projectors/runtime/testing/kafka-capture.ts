// Test helper: reads topics from the beginning until a condition holds, returning raw
// records in partition order, the way the runtime's source hands them to the decoder.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { RawRecord } from '../decode/index.ts';

const client = (brokers: string) => new Kafka({ clientId: 'nova-test-capture', brokers: brokers.split(','), logLevel: logLevel.NOTHING });

/** Each partition's end offset now (`topic:partition` -> offset): capture from there to see only what comes next. */
export async function endOffsets(brokers: string, topics: string[]): Promise<Map<string, string>> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const ends = new Map<string, string>();
    for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}:${o.partition}`, o.high);
    return ends;
  } finally {
    await admin.disconnect();
  }
}

export async function captureTopics(options: {
  brokers: string;
  topics: string[];
  until: (records: RawRecord[]) => boolean | Promise<boolean>;
  /** where to start per partition (from endOffsets); the beginning otherwise */
  since?: Map<string, string>;
  timeoutMs?: number;
}): Promise<RawRecord[]> {
  const { brokers, topics, until, since, timeoutMs = 60_000 } = options;
  const consumer = client(brokers).consumer({ groupId: `nova-test-${randomUUID()}` });
  if (since) {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) {
          const offset = since.get(`${topic}:${partition}`);
          if (offset !== undefined) consumer.seek({ topic, partition, offset });
        }
      }
    });
  }
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]));
        records.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers, timestamp: message.timestamp });
        if (await until(records)) done();
      },
    });
    const timer = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`captured ${records.length} records from ${topics.join(', ')} in ${timeoutMs} ms without meeting the condition`)), timeoutMs).unref(),
    );
    await Promise.race([finished, timer]);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/**
 * The records of `topics` from `from` up to `to` in each partition (`topic:partition` -> next
 * offset; a partition missing from `from` counts from its start, one missing from `to` is not
 * read): what was written between two sets of checkpoints, or end offsets.
 */
export async function recordsBetween(brokers: string, topics: string[], from: Map<string, bigint>, to: Map<string, bigint>): Promise<RawRecord[]> {
  const start = (key: string) => from.get(key) ?? 0n;
  const pending = new Set([...to].filter(([key, end]) => start(key) < end).map(([key]) => key));
  if (pending.size === 0) return [];
  const range = [...to].reduce((sum, [key, end]) => sum + (end > start(key) ? end - start(key) : 0n), 0n);
  const records = await captureTopics({
    brokers,
    topics,
    since: new Map([...to].map(([key, end]) => [key, String(pending.has(key) ? start(key) : end)])),
    // a replay reads every topic from its start: a minute, and a second more per 10,000 records
    timeoutMs: 60_000 + Number(range / 10n),
    until: (seen) => {
      const last = seen.at(-1);
      const key = last && `${last.topic}:${last.partition}`;
      if (key && BigInt(last.offset) + 1n >= (to.get(key) ?? 0n)) pending.delete(key);
      return pending.size === 0;
    },
  });
  return records.filter((r) => {
    const key = `${r.topic}:${r.partition}`;
    return to.has(key) && BigInt(r.offset) >= start(key) && BigInt(r.offset) < (to.get(key) as bigint);
  });
}
