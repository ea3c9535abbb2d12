// Records a projector cannot apply go to its dead-letter topic: the original bytes as the
// value, the reason and the source position in headers. The rest of the batch flows on.
import type { Kafka, Producer } from 'kafkajs';
import type { RawRecord } from './decode/index.ts';

export const deadLetterTopic = (projector: string) => `nova.dlq.${projector}`;

export const deadLetterHeaders = {
  code: 'nova-error-code',
  reason: 'nova-error-reason',
  topic: 'nova-source-topic',
  partition: 'nova-source-partition',
  offset: 'nova-source-offset',
} as const;

export type DeadLetter = {
  send(record: RawRecord, error: { code: string; reason: string }): Promise<void>;
  close(): Promise<void>;
};

export async function kafkaDeadLetter(options: { kafka: Kafka; projector: string }): Promise<DeadLetter> {
  const { kafka, projector } = options;
  const topic = deadLetterTopic(projector);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    async send(record, error) {
      await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: record.key,
            value: record.value,
            headers: {
              [deadLetterHeaders.code]: error.code,
              [deadLetterHeaders.reason]: error.reason,
              [deadLetterHeaders.topic]: record.topic,
              [deadLetterHeaders.partition]: String(record.partition),
              [deadLetterHeaders.offset]: record.offset,
            },
          },
        ],
      });
    },
    close: () => producer.disconnect(),
  };
}
