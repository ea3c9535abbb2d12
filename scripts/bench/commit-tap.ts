// Reads the projectors' topics from their current end, as a projector would, and notes for
// every change when PostgreSQL committed it (the decoded source timestamp) and when it reached
// Kafka (the record's timestamp, set by Connect's producer). Joined with the batches a
// projector reports, that splits commit-to-visible into Debezium, waiting, and the batch.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createDecoder, registryLookup } from '../../projectors/runtime/decode/index.ts';
import { loadReaderSchemas } from '../../schemas/avro/reader-schemas.ts';
import { deleteGroups, partitionKey } from './topic-ranges.ts';

export type Tapped = { offset: number; commitMs: number; kafkaMs: number };

export type Tap = {
  /** changes seen per topic:partition, in offset order */
  byPartition: Map<string, Tapped[]>;
  /** changes seen that committed at or after `sinceMs` */
  countSince(sinceMs: number, topics?: string[]): number;
  stop(): Promise<void>;
};

export async function startTap(kafka: Kafka, topics: string[], registryUrl: string): Promise<Tap> {
  const decode = createDecoder({ lookupSchema: registryLookup({ url: registryUrl }), readerSchemas: loadReaderSchemas() });
  const admin = kafka.admin();
  await admin.connect();
  const ends: { topic: string; partition: number; offset: string }[] = [];
  try {
    for (const topic of topics) for (const o of await admin.fetchTopicOffsets(topic)) ends.push({ topic, partition: o.partition, offset: o.high });
  } finally {
    await admin.disconnect();
  }
  const byPartition = new Map<string, Tapped[]>();
  const groupId = `nova-bench-tap-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const key = partitionKey(batch.topic, batch.partition);
      const into = byPartition.get(key) ?? [];
      byPartition.set(key, into);
      for (const m of batch.messages) {
        const decoded = await decode({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value }).catch(() => null);
        if (decoded?.kind === 'change') into.push({ offset: Number(m.offset), commitMs: decoded.commitTs.getTime(), kafkaMs: Number(m.timestamp) });
      }
    },
  });
  for (const e of ends) consumer.seek(e);
  return {
    byPartition,
    countSince(sinceMs, only) {
      let n = 0;
      for (const [key, list] of byPartition) {
        if (only && !only.some((topic) => key.startsWith(`${topic}:`))) continue;
        for (const t of list) if (t.commitMs >= sinceMs) n += 1;
      }
      return n;
    },
    async stop() {
      await consumer.disconnect();
      await deleteGroups(kafka, [groupId]);
    },
  };
}
