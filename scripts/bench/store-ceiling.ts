// The store's own ingest ceiling for a projector's writes: the same records, decoded once
// beforehand, reduced and mapped per batch exactly as the runtime did, then applied straight
// to the definition's sink in the same batches, with as many partitions in flight as the
// runtime's source allows. No Kafka, no decoding, no mapping inside the clock.
import { performance } from 'node:perf_hooks';
import { reduceByKey } from '../../projectors/runtime/batch/reduce.ts';
import { createDecoder, registryLookup, type Change, type RawRecord } from '../../projectors/runtime/decode/index.ts';
import type { Checkpoint, ProjectorDefinition, StoreOp } from '../../projectors/runtime/sink.ts';
import { loadReaderSchemas } from '../../schemas/avro/reader-schemas.ts';
import { watchMachineCpu, type CpuShare } from './machine-cpu.ts';
import { progress, startClock, type Clock } from './measure.ts';
import type { BenchSink } from './scratch-generation.ts';
import { partitionKey } from './topic-ranges.ts';

/** One batch as the runtime applied it (from its projector.batch_applied events). */
export type AppliedBatch = { topic: string; partition: number; firstOffset: string; lastOffset: string };

export type Decoded = { offset: bigint; change: Change | null };
export type DecodePass = { byPartition: Map<string, Decoded[]>; records: number; changes: number; failed: number; seconds: number };

/** Decodes every record once, one after another: also the decoder's isolated cost per record. */
export async function decodeAll(records: Map<string, RawRecord[]>, registryUrl: string): Promise<DecodePass> {
  const decode = createDecoder({ lookupSchema: registryLookup({ url: registryUrl }), readerSchemas: loadReaderSchemas() });
  const byPartition = new Map<string, Decoded[]>();
  const all = [...records.values()].reduce((n, list) => n + list.length, 0);
  const show = progress('ceiling: records decoded (untimed for the ceiling)', all);
  let done = 0;
  let changes = 0;
  let failed = 0;
  let ms = 0;
  for (const [key, list] of records) {
    const decoded: Decoded[] = [];
    for (const record of list) {
      const startedAt = performance.now();
      const result = await decode(record).catch(() => null);
      ms += performance.now() - startedAt;
      const change = result?.kind === 'change' ? result : null;
      if (result === null) failed += 1;
      if (change) changes += 1;
      decoded.push({ offset: BigInt(record.offset), change });
      show((done += 1));
    }
    byPartition.set(key, decoded);
  }
  return { byPartition, records: done, changes, failed, seconds: ms / 1000 };
}

type Prepared = { key: string; ops: StoreOp<never>[]; checkpoint: Checkpoint; changes: number };
export type Preparation = { batches: Prepared[]; changes: number; ops: number; unmappable: number; mapSeconds: number };

/** Cuts the decoded changes into the runtime's batches, reduces and maps each one (map time measured apart). */
export function prepareBatches(plan: AppliedBatch[], decoded: Map<string, Decoded[]>, definition: Pick<ProjectorDefinition<never>, 'mapping' | 'batchChanges'>): Preparation {
  const { mapping } = definition;
  // the same reduction the runtime applies for this projector
  const reduce = definition.batchChanges === 'every-change' ? (changes: Change[]) => changes : reduceByKey;
  const batches: Prepared[] = [];
  let mapMs = 0;
  let unmappable = 0;
  for (const batch of plan) {
    const key = partitionKey(batch.topic, batch.partition);
    const first = BigInt(batch.firstOffset);
    const last = BigInt(batch.lastOffset);
    const inBatch = (decoded.get(key) ?? []).filter((d) => d.offset >= first && d.offset <= last);
    if (inBatch.length === 0) continue; // past the measured range
    const changes = inBatch.flatMap((d) => (d.change ? [d.change] : []));
    const ops: StoreOp<never>[] = [];
    const startedAt = performance.now();
    for (const change of reduce(changes)) {
      try {
        for (const op of mapping(change)) ops.push({ op, change });
      } catch {
        unmappable += 1;
      }
    }
    mapMs += performance.now() - startedAt;
    const commitOrder = changes.reduce<bigint | null>((max, c) => (max === null || c.commitOrder > max ? c.commitOrder : max), null);
    const nextOffset = ((inBatch.at(-1) as Decoded).offset + 1n).toString();
    batches.push({ key, ops, changes: changes.length, checkpoint: { topic: batch.topic, partition: batch.partition, nextOffset, commitOrder } });
  }
  const sum = (f: (b: Prepared) => number) => batches.reduce((n, b) => n + f(b), 0);
  return { batches, changes: sum((b) => b.changes), ops: sum((b) => b.ops.length), unmappable, mapSeconds: mapMs / 1000 };
}

export type Ceiling = Clock & { machine: CpuShare | undefined; applyMs: number; changes: number; ops: number; batches: number; rejected: number; lanes: number };

/**
 * Applies the prepared batches to `sink`: each partition's batches in order, `lanes`
 * partitions at a time.
 */
export async function applyCeiling(prepared: Preparation, sink: BenchSink, lanes: number): Promise<Ceiling> {
  const queues = new Map<string, Prepared[]>();
  for (const b of prepared.batches) queues.set(b.key, [...(queues.get(b.key) ?? []), b]);
  const waiting = [...queues.values()];
  const show = progress('ceiling: changes applied straight to the sink', prepared.changes);
  let applied = 0;
  let rejected = 0;
  let applyMs = 0;
  const onRejected = async (r: unknown[]) => void (rejected += r.length);
  // as the runtime does before its first batch: it also opens the store's connection, which
  // the Redis sink opens lazily and cannot share with concurrent first calls
  await sink.load();
  const machine = watchMachineCpu();
  const clock = startClock();
  const lane = async () => {
    for (let queue = waiting.shift(); queue; queue = waiting.shift()) {
      for (const batch of queue) {
        const startedAt = performance.now();
        await sink.apply(batch.ops, [batch.checkpoint], onRejected);
        applyMs += performance.now() - startedAt;
        show((applied += batch.changes));
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { ...clock.stop(), machine: machine.stop(), applyMs, changes: prepared.changes, ops: prepared.ops, batches: prepared.batches.length, rejected, lanes };
}
