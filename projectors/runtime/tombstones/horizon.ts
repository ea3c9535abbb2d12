// The tombstone horizon: per source topic, a commit order below which no record Kafka still
// retains lies, so that no replay (a rebuild from the earliest offsets, a restart, a dead
// letter handed back) can bring back an older change of a row deleted below it. A store may
// then forget the tombstones that remember those deletes (collectTombstones).
//
// The argument: a row's changes share one partition (Debezium keys them by primary key) and a
// partition holds them in commit order, so its first retained record has the lowest commit
// order it retains; the horizon of a topic is the lowest over its partitions (a pair of
// follows can come from rows on different partitions, so per topic, not per key). Letters (the
// projector's dead-letter and replay topics) are appended whenever they fail, in no order, so
// every retained letter counts, at the commit order of the record it carries. What is not
// covered: Debezium re-sending its unflushed tail after a crash appends records of an older
// commit order after newer ones; they lie minutes behind their originals, so they matter only
// when retention deletes the originals and keeps the copies (the records around the boundary).
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { deadLetterHeaders, deadLetterTopic, replayTopic } from '../dead-letter.ts';
import type { Decoded, DecodeRecord, RawRecord } from '../decode/index.ts';
import { NovaError } from '../errors.ts';

/** A topic with nothing retained: nothing can come back, every tombstone may go. */
export const nothingRetained = (1n << 63n) - 1n;

export type Horizon = ReadonlyMap<string, bigint>;

/** The horizon of `topic` (nothingRetained when it retains nothing). */
export const horizonOf = (horizon: Horizon, topic: string): bigint => horizon.get(topic) ?? nothingRetained;

type Wanted = { topic: string; partition: number; low: string; high: string; every: boolean };

/**
 * Reads each partition of `wanted` from its first retained record, handing each to `onRecord`,
 * until `onRecord` says it has what it needs from that partition (or, with `every`, to its end).
 */
async function readRetained(kafka: Kafka, wanted: Wanted[], onRecord: (record: RawRecord) => Promise<'enough' | 'more'>): Promise<void> {
  const pending = new Map(wanted.map((w) => [`${w.topic}:${w.partition}`, w]));
  if (pending.size === 0) return;
  const groupId = `nova-tombstone-horizon-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    for (const topic of new Set(wanted.map((w) => w.topic))) await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const { topic, partition, low } of pending.values()) consumer.seek({ topic, partition, offset: low });
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const key = `${batch.topic}:${batch.partition}`;
            const w = pending.get(key);
            if (!w) return;
            for (const message of batch.messages) {
              if (BigInt(message.offset) < BigInt(w.low)) continue;
              let answer: 'enough' | 'more';
              try {
                answer = await onRecord({ topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers as RawRecord['headers'], timestamp: message.timestamp });
              } catch (error) {
                // the whole read fails: kafkajs would otherwise retry the batch for ever
                reject(error);
                return;
              }
              if ((answer === 'enough' && !w.every) || BigInt(message.offset) + 1n >= BigInt(w.high)) {
                pending.delete(key);
                consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
                break;
              }
            }
            if (pending.size === 0) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {}); // an empty group expires anyway
    await admin.disconnect();
  }
}

/**
 * The horizon of each of `topics` for `projector`: the lowest commit order of the first
 * retained record of each partition, and of every retained letter from that topic.
 */
export async function tombstoneHorizon(options: { kafka: Kafka; projector: string; topics: string[]; decode: DecodeRecord }): Promise<Horizon> {
  const { kafka, projector, topics, decode } = options;
  const admin = kafka.admin();
  await admin.connect();
  const wanted: Wanted[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    const letters = [deadLetterTopic(projector), replayTopic(projector)].filter((t) => existing.has(t));
    for (const topic of [...topics, ...letters]) {
      for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
        if (BigInt(low) < BigInt(high)) wanted.push({ topic, partition, low, high, every: letters.includes(topic) });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const horizon = new Map<string, bigint>();
  await readRetained(kafka, wanted, async (record) => {
    const source = topics.includes(record.topic) ? record.topic : record.headers?.[deadLetterHeaders.topic]?.toString();
    if (!source || !topics.includes(source)) return 'more'; // a letter without its source cannot be applied either
    let decoded: Decoded;
    try {
      decoded = await decode({ ...record, topic: source, schemaTopic: source });
    } catch (error) {
      // a record that can never decode is never applied, so it brings nothing back; anything
      // else (the registry away) leaves the horizon unknown, and nothing is collected
      if (error instanceof NovaError && error.kind === 'poison') return 'more';
      throw error;
    }
    // a Kafka tombstone (after a delete) carries no change: the partition's next record counts
    if (decoded.kind !== 'change') return 'more';
    const known = horizon.get(source);
    if (known === undefined || decoded.commitOrder < known) horizon.set(source, decoded.commitOrder);
    return 'enough';
  });
  return horizon;
}
