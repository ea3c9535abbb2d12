// The Source port over kafkajs: one consumer group per projector, manual commits, and a
// seek to the store's checkpoint whenever partitions are assigned.
import { type Consumer, type Kafka } from 'kafkajs';
import { NovaError } from '../errors.ts';
import type { Checkpoint } from '../sink.ts';
import type { Source, SourceBatch } from './source.ts';

export type KafkajsSourceOptions = {
  kafka: Kafka;
  groupId: string;
  /** how long a fetch waits for data: with maxBytesPerPartition, what closes a batch */
  maxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Partitions handed to onBatch at once; each one stays in order. High, so a fetch round's
   * partitions arrive together and the runtime can gather them into shared sink calls.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * How soon a member that died (kill -9) is dropped from the group: its replacement waits
   * that long for its partitions. kafkajs' default is 30 s; the broker's floor is 6 s.
   */
  sessionTimeoutMs?: number;
};

export function kafkajsSource(options: KafkajsSourceOptions): Source {
  const { kafka, groupId, maxWaitTimeInMs = 100, maxBytesPerPartition = 1024 * 1024, partitionsConsumedConcurrently = 64, sessionTimeoutMs = 10_000 } = options;
  let consumer: Consumer | undefined;
  let stopped: () => void = () => {};

  async function earliestOffsets(topics: string[]): Promise<Map<string, string>> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const earliest = new Map<string, string>();
      for (const topic of topics) {
        for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, 0)) earliest.set(`${topic}:${o.partition}`, o.offset);
      }
      return earliest;
    } finally {
      await admin.disconnect();
    }
  }

  return {
    async run({ topics, startAt, onBatch }) {
      const earliest = await earliestOffsets(topics);
      consumer = kafka.consumer({
        groupId,
        maxWaitTimeInMs,
        maxBytesPerPartition,
        allowAutoTopicCreation: false,
        sessionTimeout: sessionTimeoutMs,
        rebalanceTimeout: sessionTimeoutMs,
        heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 10)),
        // kafkajs retries its own protocol errors (a rebalance, a broker restart) and then
        // restarts the consumer; onBatch retries what is transient itself, so an error that
        // escapes it is fatal: crash, and let the supervisor restart the process
        retry: { restartOnFailure: async (error: Error) => !(error instanceof NovaError || (error as { cause?: unknown }).cause instanceof NovaError) },
      });
      const current = consumer;
      const finished = new Promise<void>((resolve, reject) => {
        stopped = resolve;
        current.on(current.events.CRASH, ({ payload }) => {
          if (!payload.restart) reject(payload.error);
        });
      });
      // Seeks synchronously on every assignment, before the first fetch: a partition resumes
      // at the store's checkpoint whatever offset the group last committed.
      current.on(current.events.GROUP_JOIN, ({ payload }) => {
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            current.seek({ topic, partition, offset: startAt(topic, partition) ?? earliest.get(`${topic}:${partition}`) ?? '0' });
          }
        }
      });
      await current.connect();
      await current.subscribe({ topics, fromBeginning: true });
      await current.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          if (!isRunning() || isStale() || batch.messages.length === 0) return;
          const sourceBatch: SourceBatch = {
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            heartbeat,
            records: batch.messages.map((m) => ({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value })),
          };
          await onBatch(sourceBatch);
          resolveOffset(batch.lastOffset());
        },
      });
      await finished;
    },
    async commit(checkpoints: Checkpoint[]) {
      await consumer?.commitOffsets(checkpoints.map(({ topic, partition, nextOffset }) => ({ topic, partition, offset: nextOffset })));
    },
    async stop() {
      await consumer?.disconnect();
      stopped();
    },
  };
}
