// (a) of the throughput benchmark: the runtime, in this process, from the start of a range of
// records until every checkpoint reaches the range's end; what it did, and the time it took.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';
import type { ProjectorDefinition } from '../../projectors/runtime/sink.ts';
import { startInProcess, type Stages } from './in-process-projector.ts';
import { watchMachineCpu, type CpuShare } from './machine-cpu.ts';
import { progress, startClock, type Clock } from './measure.ts';
import type { ScratchGeneration } from './scratch-generation.ts';
import type { AppliedBatch } from './store-ceiling.ts';
import { deleteGroups, partitionKey, total, type PartitionRange } from './topic-ranges.ts';

const stalledAfterMs = 120_000;

export type ProjectorPass = Clock & { machine: CpuShare | undefined; changes: number; ops: number; records: number; batches: AppliedBatch[]; startupSeconds: number; stages: Stages; deadLetters: Record<string, number>; retries: Record<string, number> };

export type Context = { kafka: Kafka; registryUrl: string; databaseUrl: string };

/** (a): the runtime from the range's start offsets until every checkpoint reaches the range's end. */
export async function projectorPass(ctx: Context, definition: ProjectorDefinition<never>, generation: ScratchGeneration, ranges: PartitionRange[]): Promise<ProjectorPass> {
  const starts = new Map(ranges.map((r) => [partitionKey(r.topic, r.partition), String(r.start)]));
  const remaining = new Map(ranges.filter((r) => r.end > r.start).map((r) => [partitionKey(r.topic, r.partition), BigInt(r.end)]));
  if (remaining.size === 0) throw new Error(`the ${definition.name} projector's topics hold no records to apply`);
  const groupId = `nova-bench-throughput-${definition.name}-${randomUUID()}`;
  const batches: AppliedBatch[] = [];
  let changes = 0;
  let ops = 0;
  let records = 0;
  let clock: ReturnType<typeof startClock> | undefined;
  let machine: ReturnType<typeof watchMachineCpu> | undefined;
  const startedAt = performance.now();
  const show = progress(`projector ${definition.name}: records applied`, total(ranges));
  const projector = await startInProcess({
    definition,
    sink: await generation.createSink(),
    kafka: ctx.kafka,
    registryUrl: ctx.registryUrl,
    groupId,
    startAt: (topic, partition) => starts.get(partitionKey(topic, partition)),
    onFirstBatch: () => {
      machine = watchMachineCpu();
      clock = startClock();
    },
  });
  let lastProgressAt = performance.now();
  let stalled: NodeJS.Timeout | undefined;
  const caughtUp = new Promise<Omit<ProjectorPass, 'startupSeconds' | 'deadLetters' | 'retries'>>((resolve, reject) => {
    projector.events.on('projector.batch_applied', (e) => {
      batches.push({ topic: e.topic, partition: e.partition, firstOffset: e.firstOffset, lastOffset: e.lastOffset });
      changes += e.changes;
      ops += e.ops;
      records += Number(BigInt(e.lastOffset) - BigInt(e.firstOffset)) + 1;
      lastProgressAt = performance.now();
      show(Math.min(records, total(ranges)));
    });
    projector.events.on('projector.checkpoint', (e) => {
      const key = partitionKey(e.topic, e.partition);
      const end = remaining.get(key);
      if (end !== undefined && BigInt(e.nextOffset) >= end) remaining.delete(key);
      if (remaining.size === 0 && clock) resolve({ ...clock.stop(), machine: machine?.stop(), changes, ops, records, batches: [...batches], stages: structuredClone(projector.stages) });
    });
    stalled = setInterval(() => {
      if (performance.now() - lastProgressAt > stalledAfterMs) reject(new Error(`the ${definition.name} projector applied nothing for ${stalledAfterMs / 1000} s`));
    }, 1000);
    projector.running.done.then(() => reject(new Error('the projector stopped before catching up')), reject);
  });
  try {
    const measured = await caughtUp;
    const startupSeconds = ((projector.firstBatchAt() ?? startedAt) - startedAt) / 1000;
    return { ...measured, startupSeconds, deadLetters: Object.fromEntries(projector.deadLetters), retries: Object.fromEntries(projector.retries) };
  } finally {
    clearInterval(stalled);
    await projector.running.stop().finally(() => deleteGroups(ctx.kafka, [groupId]));
  }
}
