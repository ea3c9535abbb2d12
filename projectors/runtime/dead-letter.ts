// Records a projector cannot apply go to its dead-letter topic: the original bytes and headers,
// the reason, the source position and the generation in headers. The rest of the batch flows
// on. `scripts/nova projector dlq-replay NAME` copies letters to the projector's replay topic,
// which the projector itself consumes and applies (replay.ts): a fix reaches only the projector
// that needed it, guarded by its versions, and Debezium's topics stay Debezium's.
import kafkajs, { type Admin, type Kafka, type Producer } from 'kafkajs';
import type { RawRecord } from './decode/index.ts';
import { NovaError, codes } from './errors.ts';

const { ConfigResourceTypes } = kafkajs;

export const deadLetterTopic = (projector: string) => `nova.dlq.${projector}`;
export const replayTopic = (projector: string) => `nova.dlq-replay.${projector}`;

export const deadLetterHeaders = {
  code: 'nova-error-code',
  reason: 'nova-error-reason',
  topic: 'nova-source-topic',
  partition: 'nova-source-partition',
  offset: 'nova-source-offset',
  generation: 'nova-generation',
  /** how many times the letter was replayed and failed again */
  replays: 'nova-replays',
} as const;

export type DeadLetter = {
  send(record: RawRecord, error: { code: string; reason: string }): Promise<void>;
  close(): Promise<void>;
};

/** A Kafka client failure: what kafkajs marks retriable is transient; anything else stalls (a letter must never be skipped). */
export function kafkaError(error: unknown, what: string): NovaError {
  if (error instanceof NovaError) return error;
  const e = error as { retriable?: boolean; name?: string; message?: string };
  const transient = e.retriable === true || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSRequestTimeoutError';
  return new NovaError(transient ? 'transient' : 'stall', codes.deadLetterUnavailable, `${what}: ${e.message ?? String(error)}`, { cause: error });
}

type TopicConfig = { retentionMs: number | null; maxMessageBytes: number | null };

async function configsOf(admin: Admin, topics: string[]): Promise<Map<string, TopicConfig>> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'max.message.bytes'] })),
  });
  const value = (entries: { configName: string; configValue: string }[], name: string) => {
    const n = Number(entries.find((e) => e.configName === name)?.configValue ?? NaN);
    return Number.isFinite(n) ? n : null;
  };
  return new Map(resources.map((r) => [r.resourceName, { retentionMs: value(r.configEntries, 'retention.ms'), maxMessageBytes: value(r.configEntries, 'max.message.bytes') }]));
}

/** Room for the headers a letter adds to the record it carries. */
const headerRoomBytes = 64 * 1024;

/**
 * What the dead-letter and replay topics need, from the source topics: records kept at least
 * as long as any source keeps them (forever if one does: retention -1), and room for the
 * largest record a source takes plus the letter's headers.
 */
export function letterTopicConfig(sources: TopicConfig[]): { 'retention.ms': string; 'max.message.bytes': string } {
  const retention = sources.some((s) => s.retentionMs === null || s.retentionMs < 0) ? -1 : Math.max(...sources.map((s) => s.retentionMs as number));
  const largest = Math.max(1024 * 1024, ...sources.map((s) => s.maxMessageBytes ?? 0));
  return { 'retention.ms': String(retention), 'max.message.bytes': String(largest + headerRoomBytes) };
}

/** Creates the projector's dead-letter and replay topics, or brings their retention and size limit up to the sources'. */
export async function ensureLetterTopics(admin: Admin, projector: string, sourceTopics: string[]): Promise<void> {
  const wanted = letterTopicConfig([...(await configsOf(admin, sourceTopics)).values()]);
  const topics = [deadLetterTopic(projector), replayTopic(projector)];
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  const entries = Object.entries(wanted).map(([name, value]) => ({ name, value }));
  if (missing.length > 0) await admin.createTopics({ waitForLeaders: true, topics: missing.map((topic) => ({ topic, numPartitions: 1, configEntries: entries })) });
  const present = topics.filter((t) => existing.has(t));
  if (present.length === 0) return;
  const current = await configsOf(admin, present);
  const drifted = present.filter((t) => String(current.get(t)?.retentionMs) !== wanted['retention.ms'] || String(current.get(t)?.maxMessageBytes) !== wanted['max.message.bytes']);
  if (drifted.length > 0) await admin.alterConfigs({ validateOnly: false, resources: drifted.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configEntries: entries })) });
}

export async function kafkaDeadLetter(options: { kafka: Kafka; projector: string; generation: number; sourceTopics: string[] }): Promise<DeadLetter> {
  const { kafka, projector, generation, sourceTopics } = options;
  const topic = deadLetterTopic(projector);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureLetterTopics(admin, projector, sourceTopics);
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return {
    async send(record, error) {
      // a replayed letter keeps its first source position; its replay count goes up
      const first = record.headers?.[deadLetterHeaders.topic] !== undefined;
      const replays = first ? Number(record.headers?.[deadLetterHeaders.replays]?.toString() ?? '0') + 1 : 0;
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [
            {
              key: record.key,
              value: record.value,
              headers: {
                ...Object.fromEntries(Object.entries(record.headers ?? {}).filter((entry): entry is [string, Buffer | string] => entry[1] !== undefined)),
                [deadLetterHeaders.code]: error.code,
                [deadLetterHeaders.reason]: error.reason,
                ...(first
                  ? { [deadLetterHeaders.replays]: String(replays) }
                  : { [deadLetterHeaders.topic]: record.topic, [deadLetterHeaders.partition]: String(record.partition), [deadLetterHeaders.offset]: record.offset }),
                [deadLetterHeaders.generation]: String(generation),
              },
            },
          ],
        });
      } catch (failure) {
        throw kafkaError(failure, `dead-letter topic ${topic}`);
      }
    },
    close: () => producer.disconnect(),
  };
}
