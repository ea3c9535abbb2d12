// The projector loop: source -> decode -> map -> batch -> sink -> checkpoint. The only
// place the wrappers are stacked, so their order is visible here.
import type { Logger } from 'pino';
import { gather } from './batch/gather.ts';
import { reduceByKey } from './batch/reduce.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { Change, DecodeRecord, RawRecord } from './decode/index.ts';
import { DecodeError, NovaError, codes, describePosition, type Position } from './errors.ts';
import type { ProjectorEventBus } from './events.ts';
import { retry } from './retry.ts';
import type { Checkpoint, CheckpointStore, ProjectorDefinition, Sink, StoreOp } from './sink.ts';
import type { Source, SourceBatch } from './source/source.ts';
import { withRetry } from './wrappers/with-retry.ts';

export type RunProjectorOptions<Op> = {
  definition: ProjectorDefinition<Op>;
  sink: Sink<Op> & CheckpointStore;
  source: Source;
  decode: DecodeRecord;
  deadLetter: DeadLetter;
  events: ProjectorEventBus;
  log: Logger;
  /**
   * A sink call carries at most this many records, from as many partitions as were handed in
   * together (or the fetch closed the batch sooner: bytes, wait time).
   */
  maxBatchRecords?: number;
  /** sink calls running at once; work arriving meanwhile gathers into the next one */
  maxSinkCallsInFlight?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
};

export type RunningProjector = { done: Promise<void>; stop(): Promise<void> };

const positionKey = (topic: string, partition: number) => `${topic}:${partition}`;
const recordKey = ({ topic, partition, offset }: Position) => `${topic}:${partition}@${offset}`;

/** One partition's share of a sink call. */
type Part = { batch: SourceBatch; records: RawRecord[] };
const nextOffset = (offset: string) => (BigInt(offset) + 1n).toString();

export async function runProjector<Op>(options: RunProjectorOptions<Op>): Promise<RunningProjector> {
  const { definition, source, decode, deadLetter, events, log, maxBatchRecords = 2000, maxSinkCallsInFlight = 2, retryInitialMs = 100, retryMaxMs = 10_000 } = options;
  // every stage retries the same way; only its name (for logs and events) differs
  const retryAs = (stage: string) => ({
    initialMs: retryInitialMs,
    maxMs: retryMaxMs,
    onRetry: (error: unknown, attempt: number, delayMs: number) => {
      events.emit('projector.retry', { stage, attempt, delayMs, error: (error as Error).message });
      log.warn({ stage, attempt, delayMs, err: error }, 'transient failure, retrying');
    },
  });
  const sink = withRetry(options.sink, retryAs('sink'));

  const checkpoints = new Map<string, Checkpoint>();
  for (const c of await retry(() => options.sink.load(), retryAs('checkpoint'))) {
    checkpoints.set(positionKey(c.topic, c.partition), c);
  }
  log.info({ stage: 'checkpoint', checkpoints: [...checkpoints.values()] }, 'resuming from the store');

  async function sendToDeadLetter(record: RawRecord, code: string, reason: string) {
    await retry(() => deadLetter.send(record, { code, reason }), { ...retryAs('dead_letter'), isTransient: () => true });
    events.emit('projector.dead_letter', { topic: record.topic, partition: record.partition, offset: record.offset, code, reason });
    log.warn({ stage: 'dead_letter', position: describePosition(record), code, reason }, 'record sent to the dead-letter topic');
  }

  async function decodeOrDeadLetter(record: RawRecord): Promise<Change | undefined> {
    try {
      const decoded = await retry(() => decode(record), retryAs('decode'));
      return decoded.kind === 'change' ? decoded : undefined; // tombstones only serve compaction
    } catch (error) {
      if (error instanceof DecodeError && error.kind === 'poison') {
        await sendToDeadLetter(record, error.code, error.detail);
        return undefined;
      }
      throw error;
    }
  }

  /** Decodes, maps and applies several partitions' records in one sink call, then checkpoints each. */
  async function applyParts(parts: Part[]) {
    const started = Date.now();
    const records = new Map(parts.flatMap(({ records }) => records.map((r) => [recordKey(r), r] as const)));
    const changesByPart: Change[][] = [];
    for (const { records } of parts) {
      const changes: Change[] = [];
      for (const record of records) {
        const change = await decodeOrDeadLetter(record);
        if (change) changes.push(change);
      }
      changesByPart.push(changes);
    }
    const ops: StoreOp<Op>[] = [];
    const changes = changesByPart.flat();
    for (const change of definition.batchChanges === 'every-change' ? changes : reduceByKey(changes)) {
      try {
        for (const op of definition.mapping(change)) ops.push({ op, change });
      } catch (error) {
        await sendToDeadLetter(records.get(recordKey(change.position)) as RawRecord, codes.unmappable, (error as Error).message);
      }
    }
    const partCheckpoints = parts.map(({ batch, records }, i): Checkpoint => ({
      topic: batch.topic,
      partition: batch.partition,
      nextOffset: nextOffset((records.at(-1) as RawRecord).offset),
      commitOrder: (changesByPart[i] as Change[]).reduce<bigint | null>(
        (order, c) => (order === null || c.commitOrder > order ? c.commitOrder : order),
        checkpoints.get(positionKey(batch.topic, batch.partition))?.commitOrder ?? null,
      ),
    }));
    // a store outage can keep apply retrying for longer than the group's session timeout:
    // keep the membership alive meanwhile (one consumer: any part's heartbeat serves all)
    const heartbeat = (parts[0] as Part).batch.heartbeat;
    const keepAlive = setInterval(() => void heartbeat().catch(() => {}), 1_000);
    try {
      await sink.apply(ops, partCheckpoints, async (rejected) => {
        for (const r of rejected) await sendToDeadLetter(records.get(recordKey(r.position)) as RawRecord, codes.storeRejected, r.reason);
      });
    } finally {
      clearInterval(keepAlive);
    }
    const visibleAt = Date.now();
    parts.forEach(({ batch, records }, i) => {
      const checkpoint = partCheckpoints[i] as Checkpoint;
      const changes = changesByPart[i] as Change[];
      checkpoints.set(positionKey(batch.topic, batch.partition), checkpoint);
      events.emit('projector.batch_applied', {
        topic: batch.topic,
        partition: batch.partition,
        firstOffset: records[0]?.offset as string,
        lastOffset: (records.at(-1) as RawRecord).offset,
        changes: changes.length,
        ops: ops.filter(({ change }) => change.position.topic === batch.topic && change.position.partition === batch.partition).length,
        durationMs: visibleAt - started,
        freshnessMs: changes.map((c) => visibleAt - c.commitTs.getTime()),
      });
      events.emit('projector.checkpoint', { ...checkpoint, highWatermark: batch.highWatermark });
    });
    await source.commit(partCheckpoints).catch((error: unknown) => log.warn({ stage: 'checkpoint', err: error }, 'kafka offset commit failed (monitoring only)'));
    await heartbeat();
  }

  // partitions handed in together (one fetch round) share sink calls; maxInFlight of them overlap
  const submit = gather<Part>({ maxWeight: maxBatchRecords, maxInFlight: maxSinkCallsInFlight, flush: applyParts });

  async function onBatch(batch: SourceBatch) {
    // records before the store's checkpoint were applied already (the group may lag behind it)
    const from = BigInt(checkpoints.get(positionKey(batch.topic, batch.partition))?.nextOffset ?? '0');
    const records = batch.records.filter((r) => BigInt(r.offset) >= from);
    // in order: a partition's next chunk is handed in only once the previous one is applied
    for (let i = 0; i < records.length; i += maxBatchRecords) {
      const chunk = records.slice(i, i + maxBatchRecords);
      await submit({ batch, records: chunk }, chunk.length);
    }
  }

  const done = source
    .run({ topics: definition.topics, startAt: (topic, partition) => checkpoints.get(positionKey(topic, partition))?.nextOffset, onBatch })
    .catch((error: unknown) => {
      events.emit('projector.crash', { error: (error as Error).message });
      throw error instanceof NovaError ? error : new NovaError('fatal', codes.storeUnavailable, (error as Error).message, { cause: error });
    });

  return {
    done,
    async stop() {
      await source.stop();
      await options.sink.close();
      await deadLetter.close();
    },
  };
}
