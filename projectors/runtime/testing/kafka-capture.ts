// Test helper: reads topics from the beginning until a condition holds, returning raw
// records in partition order, the way the runtime's source hands them to the decoder.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { RawRecord } from '../decode/index.ts';

export async function captureTopics(options: {
  brokers: string;
  topics: string[];
  until: (records: RawRecord[]) => boolean | Promise<boolean>;
  timeoutMs?: number;
}): Promise<RawRecord[]> {
  const { brokers, topics, until, timeoutMs = 60_000 } = options;
  const kafka = new Kafka({ clientId: 'nova-test-capture', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `nova-test-${randomUUID()}` });
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        records.push({ topic, partition, offset: message.offset, key: message.key, value: message.value });
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
