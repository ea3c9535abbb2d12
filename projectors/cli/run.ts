// `scripts/nova projector run|rebuild <name>`: one projector, one process. Assembles the
// runtime from its parts; SIGTERM/SIGINT finish the batch in flight, checkpoint and exit 0.
// With whenCaughtUp it also watches for the moment everything the topics held at start is
// applied, then promotes the generation (blue/green) and/or stops.
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { novaConfig } from '../../config/nova-config.ts';
import { loadReaderSchemas } from '../../schemas/avro/reader-schemas.ts';
import { kafkaDeadLetter, replayTopic } from '../runtime/dead-letter.ts';
import { createDecoder, registryLookup, registryVersions } from '../runtime/decode/index.ts';
import { ProjectorEventBus } from '../runtime/events.ts';
import { projectorHealth } from '../runtime/health.ts';
import { projectorMetrics, serveMetrics } from '../runtime/metrics.ts';
import { trackCatchUp, type CatchUp } from '../runtime/replay/catch-up.ts';
import { runProjector } from '../runtime/run-projector.ts';
import type { Checkpoint, CheckpointStore, ProjectorDefinition } from '../runtime/sink.ts';
import { projectorGroup, kafkajsSource } from '../runtime/source/kafkajs-source.ts';

/** The decoder of every process that reads the topics: writer schemas from the registry at `url`, Nova's reader schemas. */
export const registryDecoder = (url: string) => createDecoder({ lookupSchema: registryLookup({ url }), schemaVersions: registryVersions({ url }), readerSchemas: loadReaderSchemas() });

export type RunOptions = {
  generation: number;
  metricsPort: number;
  maxBatchRecords: number;
  /**
   * Once caught up with the topics' end as read at start (or, with `before`, as read once it
   * resolved: an incremental snapshot run meanwhile), promote the generation, and/or stop.
   */
  whenCaughtUp?: { promote: boolean; stop: boolean; before?: () => Promise<void> };
  /** a snapshot re-publishes every row: partitions this generation has none of may start past retention's cut */
  snapshotFills?: boolean;
  /** records of source epochs before this are passed unapplied (a rebuild past a stream gap) */
  skipBeforeEpoch?: number;
  /** /readyz turns unready after this long without progress while records wait */
  stuckAfterMs?: number;
  /** a generation readers do not see (yet): it never claims the live name */
  shadow?: boolean;
};

export async function runProjectorProcess(definition: ProjectorDefinition<never>, options: RunOptions): Promise<number> {
  const config = novaConfig();
  const log = pino({ base: { projector: definition.name, generation: options.generation } });
  const kafka = new Kafka({ clientId: `nova-projector-${definition.name}`, brokers: config.kafkaBrokers(), logLevel: logLevel.ERROR });
  const events = new ProjectorEventBus((error, event) => log.error({ err: error, event }, 'an event listener failed'));
  events.on('projector.batch_applied', (e) => log.debug({ stage: 'sink', ...e, freshnessMs: undefined }, 'batch applied'));
  let ready = false;
  const health = projectorHealth(events, { started: () => ready, stuckAfterMs: options.stuckAfterMs });
  const server = serveMetrics({ registry: projectorMetrics(events, definition.name), port: options.metricsPort, health });
  events.on('projector.order_regression', (e) =>
    log.warn({ stage: 'decode', ...e }, 'a change is earlier in commit order than its partition checkpoint: after a Connect crash this is a re-sent record (harmless); if it goes on, the source positions restarted lower and every change is refused: bump the source epoch (scripts/nova connector epoch --bump)'),
  );

  const sink = await definition.createSink({ generation: options.generation, env: process.env, shadow: options.shadow });
  // checkpoints written before the catch-up tracker exists (a snapshot may run first) are kept for it
  const seen = new Map<string, Checkpoint>();
  let tracker: CatchUp | undefined;
  if (options.whenCaughtUp) events.on('projector.checkpoint', (c) => (tracker ? tracker.onCheckpoint(c) : seen.set(`${c.topic}:${c.partition}`, c)));

  let stopping = false;
  let failed = false;
  let stopRunning: () => Promise<void> = async () => {};
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping after the batch in flight');
    void stopRunning();
  };
  // a one-shot run waits for every partition: one that can never go on (a gap) fails it now
  if (options.whenCaughtUp?.stop) {
    events.on('projector.stalled', (e) => {
      if (e.retryInMs !== null) return;
      log.fatal({ stage: 'source', ...e }, 'a partition cannot be completed: giving up');
      failed = true;
      stop('a partition cannot be completed');
    });
  }

  const running = await runProjector({
    definition,
    sink,
    // the group is per generation: a new generation must not inherit the old one's offsets
    source: kafkajsSource({ kafka, groupId: projectorGroup(definition.name, options.generation) }),
    decode: registryDecoder(config.schemaRegistryUrl()),
    deadLetter: await kafkaDeadLetter({ kafka, projector: definition.name, generation: options.generation, sourceTopics: definition.topics }),
    events,
    log,
    maxBatchRecords: options.maxBatchRecords,
    replayTopic: replayTopic(definition.name),
    generation: options.generation,
    snapshotFills: options.snapshotFills,
    skipBeforeEpoch: options.skipBeforeEpoch,
  });
  stopRunning = running.stop;
  if (stopping) void running.stop();
  ready = true;
  const address = server.address();
  log.info({ stage: 'source', topics: definition.topics, metrics: typeof address === 'object' && address ? `http://127.0.0.1:${address.port}/metrics` : undefined }, 'projector running');

  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (options.whenCaughtUp) {
    const { promote, stop: stopAfter, before } = options.whenCaughtUp;
    void (async () => {
      await before?.();
      const catchUp = await catchUpFromNow(kafka, definition.topics, sink);
      tracker = catchUp;
      for (const c of seen.values()) catchUp.onCheckpoint(c);
      const showing = showProgress(catchUp, `${definition.name} generation ${options.generation}`);
      await catchUp.done;
      clearInterval(showing);
      log.info({ stage: 'checkpoint', ...progressOf(catchUp) }, 'caught up with the topics');
      if (promote) {
        await definition.generations?.promote(options.generation, process.env);
        log.info({ stage: 'checkpoint' }, `generation ${options.generation} promoted: readers see it now`);
      }
      if (stopAfter) stop('caught up');
    })().catch((error: unknown) => {
      log.fatal({ err: error }, 'could not catch up or promote the generation');
      failed = true;
      stop('catch-up failed');
    });
  }
  try {
    await running.done;
    log.info('stopped cleanly');
    return failed ? 1 : 0;
  } catch (error) {
    log.fatal({ err: error }, 'projector crashed');
    return 1;
  } finally {
    server.close();
  }
}

/** Where each partition stands now (the store's checkpoint, else the earliest retained offset) and its end right now. */
async function catchUpFromNow(kafka: Kafka, topics: string[], store: CheckpointStore): Promise<CatchUp> {
  const checkpoints = new Map((await store.load()).map((c) => [`${c.topic}:${c.partition}`, BigInt(c.nextOffset)]));
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ranges = [];
    for (const topic of topics) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const start = checkpoints.get(`${topic}:${partition}`) ?? BigInt(low);
        ranges.push({ topic, partition, start: start > BigInt(low) ? start : BigInt(low), end: BigInt(high) });
      }
    }
    return trackCatchUp(ranges);
  } finally {
    await admin.disconnect();
  }
}

const progressOf = (catchUp: CatchUp) => {
  const { applied, total } = catchUp.progress();
  return { applied: Number(applied), total: Number(total) };
};

/** A line on stderr every 2 s for the person waiting (stdout stays pino JSON). */
function showProgress(catchUp: CatchUp, what: string): NodeJS.Timeout {
  const timer = setInterval(() => {
    const { applied, total } = progressOf(catchUp);
    const percent = total === 0 ? 100 : Math.floor((applied / total) * 100);
    process.stderr.write(`${what}: ${applied.toLocaleString('en-US')}/${total.toLocaleString('en-US')} records applied (${percent}%)\n`);
  }, 2_000);
  return timer.unref(); // never what keeps the process alive
}
