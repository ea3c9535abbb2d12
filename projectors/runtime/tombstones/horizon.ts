// The tombstone horizon: per source topic, a commit order below which no record Kafka still
// retains lies, so that no replay (a rebuild from the earliest offsets, a restart, a dead
// letter handed back) can bring back an older change of a row deleted below it. A store may
// then forget the tombstones that remember those deletes (collectTombstones).
//
// The argument is per row: a row's changes share one partition (Debezium keys them by primary
// key), and once one change of a row is retained, every later change of that row is retained
// after it (Debezium re-sends its whole unflushed tail after a crash; an incremental snapshot
// read of a row changed inside its window is dropped). So a tombstone below the lowest commit
// order a partition retains can at most be outlived for a while by a replayed older change that
// a later retained change then overwrites again. A partition is not in commit order as a whole
// (an incremental read carries the position it was read at, emitted later), so the horizon of a
// topic is the lowest over its partitions' first changes, and a pair of follows from rows on
// other partitions is covered too. What has no later change to overwrite it is what counts
// besides: every retained letter (dead letters are appended whenever they fail, and handed back
// after a fix: one that does not decode now holds its topic at 0), and records a lagging
// projector holds in memory, which the command refuses (a checkpoint behind retention).
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

/** How long reading the first retained records may take. */
const readTimeoutMs = 120_000;

type Wanted = { topic: string; partition: number; high: string; every: boolean };

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
      // a read that cannot finish (a partition emptied by retention meanwhile gets no batch) fails instead of hanging
      const deadline = setTimeout(() => reject(new Error(`the first retained records of ${[...pending.keys()].join(', ')} were not read within ${readTimeoutMs / 1000} s: run it again`)), readTimeoutMs);
      deadline.unref();
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, heartbeat }) => {
            const key = `${batch.topic}:${batch.partition}`;
            const w = pending.get(key);
            if (!w) return;
            for (const message of batch.messages) {
              await heartbeat(); // decoding may wait for the registry: keep the membership (a rejoin would start over)
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
            if (pending.size === 0) (clearTimeout(deadline), resolve());
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
        if (BigInt(low) < BigInt(high)) wanted.push({ topic, partition, high, every: letters.includes(topic) });
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
      if (error instanceof NovaError && error.kind === 'poison') {
        // ... except a letter: one is handed back after a fix (dlq-replay), and may decode then;
        // nothing of its topic is collected while it is retained
        if (record.topic !== source) horizon.set(source, 0n);
        return 'more';
      }
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
