// The Source port over kafkajs: one consumer group per projector and generation, which every
// instance of the projector joins (they share its partitions), manual commits, and a seek to
// the store's checkpoint whenever partitions are assigned. kafkajs rebalances eagerly: when a
// member joins or leaves, every member hands back all its partitions, finishes the batches in
// flight, and joins again for a new assignment (GROUP_JOIN). A batch's `revoked` signal is
// aborted as soon as a heartbeat hears of the rebalance, so a sink call retrying through a
// store outage gives up instead of holding the rejoin back and writing after the partition moved.
import kafkajs, { type Admin, type Consumer, type Kafka } from 'kafkajs';
import { NovaError } from '../errors.ts';
import type { Checkpoint } from '../sink.ts';
import type { AssignedPartition, Source, SourceBatch } from './source.ts';

// kafkajs is CommonJS and Node cannot see every named export: take them from the default
const { ConfigResourceTypes } = kafkajs;

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

const keyOf = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * The group's answers that mean this member's partitions are gone: a rebalance began (every
 * member hands back everything, eagerly), this member's generation is over, or it was dropped.
 * kafkajs rejoins after each (NOT_COORDINATOR_FOR_GROUP too: it counts it as rebalancing).
 */
const revokingErrors = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);
export const revokesPartitions = (error: unknown) => revokingErrors.has(String((error as { type?: unknown } | undefined)?.type ?? ''));

/** retention.ms of each topic (null: kept forever) */
async function retentionOf(admin: Admin, topics: string[]): Promise<Map<string, number | null>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] })),
  });
  return new Map(
    resources.map((r) => {
      const value = Number(r.configEntries.find((e) => e.configName === 'retention.ms')?.configValue ?? -1);
      return [r.resourceName, value < 0 ? null : value] as const;
    }),
  );
}

/** The consumer group of one projector's generation: a new generation must not inherit an old one's offsets. */
export const projectorGroup = (projector: string, generation: number) => `nova-projector-${projector}-g${generation}`;

export function kafkajsSource(options: KafkajsSourceOptions): Source {
  const { kafka, groupId, maxWaitTimeInMs = 100, maxBytesPerPartition = 1024 * 1024, partitionsConsumedConcurrently = 64, sessionTimeoutMs = 10_000 } = options;
  let consumer: Consumer | undefined;
  let stopped: () => void = () => {};
  const paused = new Set<string>();

  const pauseNow = (topic: string, partition: number) => consumer?.pause([{ topic, partitions: [partition] }]);

  return {
    async run({ topics, startAt, onAssign, onBatch }) {
      const admin = kafka.admin();
      await admin.connect();
      const retention = await retentionOf(admin, topics);
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
      let failed: (error: unknown) => void = () => {};
      const finished = new Promise<void>((resolve, reject) => {
        stopped = resolve;
        failed = reject;
        current.on(current.events.CRASH, ({ payload }) => {
          if (!payload.restart) reject(payload.error);
        });
      });
      // Batches wait for the newest assignment's check (the store's checkpoints, read again,
      // against what the topic still retains); until it is done nothing of those partitions is
      // applied. Then each one is sought to the store's checkpoint: a batch kafkajs fetched
      // meanwhile from the group's committed offset is stale by then (a seek is pending) and
      // dropped. The partitions of the previous assignment are revoked by now.
      let assigned: Promise<void> = Promise.resolve();
      let revocation = new AbortController();
      current.on(current.events.GROUP_JOIN, ({ payload }) => {
        revocation.abort(new Error('the partitions were assigned anew'));
        revocation = new AbortController();
        const partitions = Object.entries(payload.memberAssignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
        for (const { topic, partition } of partitions) if (paused.has(keyOf(topic, partition))) pauseNow(topic, partition);
        assigned = (async () => {
          const ranges: AssignedPartition[] = [];
          for (const topic of new Set(partitions.map((p) => p.topic))) {
            for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
              if (partitions.some((p) => p.topic === topic && p.partition === partition)) ranges.push({ topic, partition, low, high, retentionMs: retention.get(topic) ?? null });
            }
          }
          await onAssign(ranges);
          // no checkpoint: kafkajs would start at the group's offset; the earliest, explicitly
          for (const { topic, partition, low } of ranges) current.seek({ topic, partition, offset: startAt(topic, partition) ?? low });
        })();
        assigned.catch(failed);
      });
      try {
        await current.connect();
        await current.subscribe({ topics, fromBeginning: true });
        await current.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently,
          eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
            await assigned;
            const key = keyOf(batch.topic, batch.partition);
            // a batch fetched before its partition was paused is dropped: it is read again on resume
            if (!isRunning() || isStale() || paused.has(key) || batch.messages.length === 0) return;
            const ownership = revocation;
            const sourceBatch: SourceBatch = {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              // kafkajs hears of the rebalance itself at its own next heartbeat, once this returns
              heartbeat: () =>
                heartbeat().catch((error: unknown) => {
                  if (!revokesPartitions(error)) throw error;
                  ownership.abort(error);
                }),
              revoked: ownership.signal,
              records: batch.messages.map((m) => ({
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                timestamp: m.timestamp,
                headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value])),
              })),
            };
            await onBatch(sourceBatch);
            // an abandoned batch is read again by whoever holds the partition next
            if (!paused.has(key) && !ownership.signal.aborted) resolveOffset(batch.lastOffset());
          },
        });
        await finished;
      } finally {
        await admin.disconnect();
      }
    },
    async commit(checkpoints: Checkpoint[]) {
      await consumer?.commitOffsets(checkpoints.map(({ topic, partition, nextOffset }) => ({ topic, partition, offset: nextOffset })));
    },
    pause(topic, partition) {
      paused.add(keyOf(topic, partition));
      pauseNow(topic, partition);
    },
    resume(topic, partition, offset) {
      if (!paused.delete(keyOf(topic, partition))) return;
      if (offset !== undefined) consumer?.seek({ topic, partition, offset });
      consumer?.resume([{ topic, partitions: [partition] }]);
    },
    async stop() {
      await consumer?.disconnect();
      stopped();
    },
  };
}
