// How fast a projector applies a backlog, against how fast its store can take the same
// writes. (a) The runtime, in this process, applies the last N records of its topics into a
// scratch generation until its checkpoints reach the recorded end offsets (projector-pass.ts).
// (b) The same records, decoded and mapped beforehand, cut into the batches (a) applied, go
// straight to the definition's sink in the emptied generation: the store's ceiling
// (store-ceiling.ts). Two rounds in opposite orders, so neither always runs on the colder JIT
// or the emptier store; each prints both rates, their ratio and where (a)'s time went.
import { Kafka, logLevel } from 'kafkajs';
import { projectors } from '../../projectors/registry.ts';
import type { ProjectorDefinition } from '../../projectors/runtime/sink.ts';
import { recordsFor } from './fill-topics.ts';
import { machineNote, note, round } from './measure.ts';
import { projectorPass, type Context } from './projector-pass.ts';
import { claimGeneration, type ScratchGeneration } from './scratch-generation.ts';
import { applyCeiling, decodeAll, prepareBatches, type Preparation } from './store-ceiling.ts';
import { printHeader, printRound, roundResult, type Round } from './throughput-report.ts';
import { readRanges, total } from './topic-ranges.ts';

/**
 * Sink calls the ceiling keeps in flight: twice the runtime's (maxSinkCallsInFlight 2, each
 * gathering several partitions), so the store is pushed at least as hard as the projector can.
 */
const ceilingLanes = 4;

async function ceilingPass(generation: ScratchGeneration, prepared: Preparation) {
  await generation.reset();
  const sink = await generation.createSink();
  return applyCeiling(prepared, sink, ceilingLanes).finally(() => sink.close());
}

export async function benchProjectorThroughput(options: { projectors: string[]; changes: number; brokers: string; registryUrl: string; databaseUrl: string }): Promise<void> {
  const { changes, brokers, registryUrl, databaseUrl } = options;
  const kafka = new Kafka({ clientId: 'nova-bench-throughput', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const ctx: Context = { kafka, registryUrl, databaseUrl };
  console.log(await machineNote());
  const results = [];
  for (const name of options.projectors) {
    const definition = projectors[name] as ProjectorDefinition<never>;
    const admin = kafka.admin();
    await admin.connect();
    const { ranges, fill } = await recordsFor(admin, { projector: name, topics: definition.topics, count: changes, databaseUrl }).finally(() => admin.disconnect());
    const range = { records: total(ranges), topics: new Set(ranges.map((r) => r.topic)).size, partitions: ranges.length };
    const generation = await claimGeneration(definition);
    note(`${name}: scratch generation: ${generation.where}`);
    try {
      printHeader(name, range, fill, generation.where);
      // round 1: projector, then ceiling (the ceiling needs the batches the projector applied)
      const first = await projectorPass(ctx, definition, generation, ranges);
      const decoded = await decodeAll(await readRanges(kafka, ranges, `ceiling ${name}: records read back`), registryUrl);
      const prepared = prepareBatches(first.batches, decoded.byPartition, definition);
      const rounds: Round[] = [roundResult('projector, then ceiling', first, decoded, prepared.mapSeconds, await ceilingPass(generation, prepared))];
      printRound(rounds[0] as Round, 0);
      // round 2: ceiling, then projector
      const ceiling = await ceilingPass(generation, prepared);
      await generation.reset();
      rounds.push(roundResult('ceiling, then projector', await projectorPass(ctx, definition, generation, ranges), decoded, prepared.mapSeconds, ceiling));
      printRound(rounds[1] as Round, 1);
      const ratios = rounds.map((r) => r.projectorOverCeiling ?? 0);
      console.log(`  projector/ceiling over both rounds: ${ratios.join(', ')} (mean ${round(ratios.reduce((a, b) => a + b, 0) / ratios.length, 2)}; aim >= 0.70)`);
      results.push({ projector: name, range: { ...range, fill }, generation: generation.where, rounds });
    } finally {
      await generation.cleanup();
    }
  }
  console.log(JSON.stringify({ bench: 'projector-throughput', changes, ceilingLanes, results }));
}
