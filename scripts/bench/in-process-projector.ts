// A projector assembled the way `scripts/nova projector run` assembles it (runProjector,
// the kafkajs source with its defaults, the real decoder, the definition's mapping and sink),
// with timing wrappers of the same shape around each port, so the benchmark can say where
// the time goes without touching the runtime. Dead letters are counted, not produced: a
// benchmark must not write to the shared dead-letter topic.
import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { loadReaderSchemas } from '../../schemas/avro/reader-schemas.ts';
import type { DeadLetter } from '../../projectors/runtime/dead-letter.ts';
import { createDecoder, registryLookup, type DecodeRecord } from '../../projectors/runtime/decode/index.ts';
import { ProjectorEventBus } from '../../projectors/runtime/events.ts';
import { runProjector, type RunningProjector } from '../../projectors/runtime/run-projector.ts';
import type { ProjectorDefinition } from '../../projectors/runtime/sink.ts';
import { kafkajsSource } from '../../projectors/runtime/source/kafkajs-source.ts';
import type { Source, StartAt } from '../../projectors/runtime/source/source.ts';
import type { BenchSink } from './scratch-generation.ts';

/** Calls into one port and the wall time spent inside them (concurrent partitions overlap). */
export type Stage = { calls: number; ms: number };
export type Stages = { batch: Stage; decode: Stage; map: Stage; sink: Stage; commit: Stage };

export type InProcessProjector = {
  running: RunningProjector;
  events: ProjectorEventBus;
  stages: Stages;
  /** dead-lettered records by error code */
  deadLetters: Map<string, number>;
  /** retried transient failures by stage */
  retries: Map<string, number>;
  /** performance.now() when the source handed over its first batch */
  firstBatchAt(): number | undefined;
};

export type InProcessOptions = {
  definition: ProjectorDefinition<never>;
  sink: BenchSink;
  kafka: Kafka;
  registryUrl: string;
  groupId: string;
  /** where a partition the store has no checkpoint for starts (default: the earliest retained record) */
  startAt?: StartAt;
  maxBatchRecords?: number;
  logLevel?: pino.Level;
  /** called once, when the source hands over its first batch */
  onFirstBatch?: () => void;
};

const stage = (): Stage => ({ calls: 0, ms: 0 });

function timed<A extends unknown[], R>(into: Stage, work: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    const startedAt = performance.now();
    try {
      return await work(...args);
    } finally {
      into.calls += 1;
      into.ms += performance.now() - startedAt;
    }
  };
}

function timedSource(inner: Source, stages: Stages, options: { startAt?: StartAt; onFirstBatch: () => void }): Source {
  return {
    run: ({ topics, startAt, onAssign, onBatch }) =>
      inner.run({
        topics,
        onAssign,
        startAt: (topic, partition) => startAt(topic, partition) ?? options.startAt?.(topic, partition),
        onBatch: timed(stages.batch, async (batch) => {
          options.onFirstBatch();
          await onBatch(batch);
        }),
      }),
    commit: timed(stages.commit, (checkpoints) => inner.commit(checkpoints)),
    pause: (topic, partition) => inner.pause(topic, partition),
    resume: (topic, partition, offset) => inner.resume(topic, partition, offset),
    stop: () => inner.stop(),
  };
}

function countingDeadLetter(counts: Map<string, number>): DeadLetter {
  return {
    send: async (_record, error) => void counts.set(error.code, (counts.get(error.code) ?? 0) + 1),
    close: async () => {},
  };
}

export async function startInProcess(options: InProcessOptions): Promise<InProcessProjector> {
  const { definition, sink, kafka, registryUrl, groupId, startAt, maxBatchRecords, logLevel = 'error', onFirstBatch } = options;
  const log = pino({ level: logLevel, base: { projector: definition.name, bench: true } }, pino.destination(2));
  const events = new ProjectorEventBus((error, event) => log.error({ err: error, event }, 'a benchmark listener failed'));
  const stages: Stages = { batch: stage(), decode: stage(), map: stage(), sink: stage(), commit: stage() };
  const deadLetters = new Map<string, number>();
  let firstBatchAt: number | undefined;

  const decode: DecodeRecord = timed(stages.decode, createDecoder({ lookupSchema: registryLookup({ url: registryUrl }), readerSchemas: loadReaderSchemas() }));
  const mapping = (change: Parameters<typeof definition.mapping>[0]) => {
    const startedAt = performance.now();
    try {
      return definition.mapping(change);
    } finally {
      stages.map.calls += 1;
      stages.map.ms += performance.now() - startedAt;
    }
  };
  const firstBatch = () => {
    if (firstBatchAt !== undefined) return;
    firstBatchAt = performance.now();
    onFirstBatch?.();
  };
  // transient failures the runtime retried (a store restarting under the benchmark shows here)
  const retries = new Map<string, number>();
  events.on('projector.retry', (e) => retries.set(e.stage, (retries.get(e.stage) ?? 0) + 1));
  const timedSink: BenchSink = { apply: timed(stages.sink, (ops, checkpoints, onRejected) => sink.apply(ops, checkpoints, onRejected)), load: () => sink.load(), close: () => sink.close() };

  const running = await runProjector({
    definition: { ...definition, mapping },
    sink: timedSink,
    source: timedSource(kafkajsSource({ kafka, groupId }), stages, { startAt, onFirstBatch: firstBatch }),
    decode,
    deadLetter: countingDeadLetter(deadLetters),
    events,
    log,
    ...(maxBatchRecords ? { maxBatchRecords } : {}),
  });
  return { running, events, stages, deadLetters, retries, firstBatchAt: () => firstBatchAt };
}
