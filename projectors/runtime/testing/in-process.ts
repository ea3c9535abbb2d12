// A projector inside the test process, on real Kafka, the real registry and a real store, for
// tests that need their own topics (a throwaway connector's, a topic they cut or recreate): the
// same runtime, source, decoder and dead-letter topic as `projector run`, pointed elsewhere.
// Its projector name (dead-letter and replay topics, consumer group) is the test's own.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { loadReaderSchemas } from '../../../schemas/avro/reader-schemas.ts';
import { env } from '../../../scripts/stack.d/test/stack.ts';
import { deadLetterTopic, kafkaDeadLetter, replayTopic } from '../dead-letter.ts';
import { createDecoder, registryLookup, registryVersions } from '../decode/index.ts';
import { ProjectorEventBus, type ProjectorEvents } from '../events.ts';
import { projectorHealth, type Health } from '../health.ts';
import { runProjector, type RunningProjector } from '../run-projector.ts';
import type { CheckpointStore, ProjectorDefinition, Sink } from '../sink.ts';
import { projectorGroup, kafkajsSource } from '../source/kafkajs-source.ts';

export type InProcessOptions<Op> = {
  definition: ProjectorDefinition<Op>;
  generation: number;
  /** the topics to read instead of the definition's */
  topics?: string[];
  /** which Nova topic's reader schema decodes a topic (a throwaway connector writes nova's schemas under other topic names) */
  readerTopic?: (topic: string) => string;
  snapshotFills?: boolean;
  skipBeforeEpoch?: number;
  registryUrl?: string;
  /** the name of an earlier in-process projector, to run it again (a restart, a fix deployed) */
  name?: string;
};

export type InProcessProjector<Op> = {
  running: RunningProjector;
  sink: Sink<Op> & CheckpointStore;
  health: Health;
  events: ProjectorEventBus;
  /** every event of these kinds so far */
  seen: <E extends keyof ProjectorEvents>(event: E) => ProjectorEvents[E][];
  /** the name its dead-letter and replay topics and consumer group use */
  name: string;
  /** stops it and deletes its letter topics and consumer group */
  close(): Promise<void>;
};

const tracked: (keyof ProjectorEvents)[] = ['projector.stalled', 'projector.unstalled', 'projector.dead_letter', 'projector.checkpoint', 'projector.order_regression', 'projector.breaker'];

export async function runInProcess<Op>(options: InProcessOptions<Op>): Promise<InProcessProjector<Op>> {
  const { definition, generation, readerTopic = (t: string) => t } = options;
  const name = options.name ?? `test-${definition.name}-${randomUUID().slice(0, 8)}`;
  const topics = options.topics ?? definition.topics;
  const kafka = new Kafka({ clientId: name, brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const log = pino({ level: process.env.NOVA_TEST_LOG ?? 'silent', base: { projector: name, generation } });
  const events = new ProjectorEventBus((error) => log.error({ err: error }, 'a test listener failed'));
  const seen = new Map<string, unknown[]>();
  for (const event of tracked) events.on(event, (payload) => seen.set(event, [...(seen.get(event) ?? []), payload]));
  let started = false;
  const health = projectorHealth(events, { started: () => started });
  const readers = loadReaderSchemas();
  const sink = await definition.createSink({ generation, env: process.env, shadow: true });
  const running = await runProjector({
    definition: { ...definition, name, topics },
    sink,
    source: kafkajsSource({ kafka, groupId: projectorGroup(name, generation) }),
    decode: createDecoder({
      lookupSchema: registryLookup({ url: options.registryUrl ?? env('SCHEMA_REGISTRY_URL') }),
      schemaVersions: registryVersions({ url: options.registryUrl ?? env('SCHEMA_REGISTRY_URL') }),
      readerSchemas: (topic, part) => readers(readerTopic(topic), part),
    }),
    deadLetter: await kafkaDeadLetter({ kafka, projector: name, generation, sourceTopics: topics }),
    events,
    log,
    replayTopic: replayTopic(name),
    generation,
    retryInitialMs: 50,
    retryMaxMs: 500,
    stallRetryInitialMs: 500,
    ...(options.snapshotFills ? { snapshotFills: true } : {}),
    ...(options.skipBeforeEpoch !== undefined ? { skipBeforeEpoch: options.skipBeforeEpoch } : {}),
  });
  started = true;
  running.done.catch(() => {}); // a crash shows in the test that waits on it
  return {
    running,
    sink,
    health,
    events,
    name,
    seen: <E extends keyof ProjectorEvents>(event: E) => (seen.get(event) ?? []) as ProjectorEvents[E][],
    async close() {
      await running.stop().catch(() => {});
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: [deadLetterTopic(name), replayTopic(name)] }).catch(() => {});
        await admin.deleteGroups([projectorGroup(name, generation)]).catch(() => {});
      } finally {
        await admin.disconnect();
      }
    },
  };
}
