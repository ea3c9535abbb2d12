// The throughput benchmark's figures: one round (a projector pass and a ceiling pass) as
// numbers, and as lines.
import type { Fill } from './fill-topics.ts';
import { describeCpu } from './machine-cpu.ts';
import { perSecond, round } from './measure.ts';
import type { ProjectorPass } from './projector-pass.ts';
import type { Ceiling } from './store-ceiling.ts';

export type Round = ReturnType<typeof roundResult>;

export function roundResult(order: string, pass: ProjectorPass, decoded: { records: number; seconds: number }, mapSeconds: number, ceiling: Ceiling) {
  const projectorRate = perSecond(pass.changes, pass.seconds);
  const ceilingRate = perSecond(ceiling.changes, ceiling.seconds);
  const us = (ms: number, per: number) => (per > 0 ? round((ms * 1000) / per, 1) : 0);
  const s = pass.stages;
  const inPorts = s.decode.ms + s.map.ms + s.sink.ms + s.commit.ms;
  return {
    order,
    projectorPass: {
      seconds: round(pass.seconds, 2),
      startupSeconds: round(pass.startupSeconds, 2),
      changes: pass.changes,
      records: pass.records,
      ops: pass.ops,
      batches: pass.batches.length,
      changesPerSecond: projectorRate,
      changesPerBatch: round(pass.changes / Math.max(1, pass.batches.length), 1),
      cpuSeconds: round(pass.cpuSeconds, 2),
      eventLoopUtilization: pass.eventLoopUtilization,
      deadLetters: pass.deadLetters,
      retries: pass.retries,
      machine: pass.machine,
    },
    ceiling: { seconds: round(ceiling.seconds, 2), changes: ceiling.changes, ops: ceiling.ops, batches: ceiling.batches, lanes: ceiling.lanes, changesPerSecond: ceilingRate, cpuSeconds: round(ceiling.cpuSeconds, 2), eventLoopUtilization: ceiling.eventLoopUtilization, rejected: ceiling.rejected, machine: ceiling.machine },
    projectorOverCeiling: ceilingRate > 0 ? round(projectorRate / ceilingRate, 2) : null,
    // how many sink.apply calls were in flight on average: how busy each pass kept the store
    appliesInFlight: { projector: round(s.sink.ms / (pass.seconds * 1000), 2), ceiling: round(ceiling.applyMs / (ceiling.seconds * 1000), 2) },
    // wall time inside each port during (a), summed over the partitions in flight
    stagesSeconds: {
      batchHandler: round(s.batch.ms / 1000, 2),
      decode: round(s.decode.ms / 1000, 2),
      map: round(s.map.ms / 1000, 2),
      sinkApply: round(s.sink.ms / 1000, 2),
      kafkaCommit: round(s.commit.ms / 1000, 2),
      restOfBatchHandler: round((s.batch.ms - inPorts) / 1000, 2),
    },
    perChangeUs: {
      projectorWall: us(pass.seconds * 1000, pass.changes),
      projectorCpu: us(pass.cpuSeconds * 1000, pass.changes),
      decodeInRun: us(s.decode.ms, pass.changes),
      mapInRun: us(s.map.ms, pass.changes),
      sinkApplyInRun: us(s.sink.ms, pass.changes),
      commitInRun: us(s.commit.ms, pass.changes),
      decodeIsolatedPerRecord: us(decoded.seconds * 1000, decoded.records),
      mapIsolated: us(mapSeconds * 1000, ceiling.changes),
      ceilingWall: us(ceiling.seconds * 1000, ceiling.changes),
    },
    // the projector process's CPU per change, from the isolated costs; the rest is kafkajs
    // (fetch, record batch parsing, offset commits), reduce, events and GC
    cpuBudgetUsPerChange: {
      total: us(pass.cpuSeconds * 1000, pass.changes),
      decode: us(decoded.seconds * 1000, pass.changes),
      map: us(mapSeconds * 1000, pass.changes),
      sinkClient: us(ceiling.cpuSeconds * 1000, ceiling.changes),
      rest: us((pass.cpuSeconds - decoded.seconds - mapSeconds - ceiling.cpuSeconds) * 1000, pass.changes),
    },
  };
}

export function printRound(r: Round, index: number): void {
  const p = r.projectorPass;
  const c = r.ceiling;
  const n = (x: number) => x.toLocaleString('en');
  console.log(`  round ${index + 1} (${r.order}):`);
  console.log(`    projector  ${p.seconds.toFixed(2)} s  ${n(p.changesPerSecond)} changes/s  (${n(p.changes)} changes, ${n(p.batches)} batches, ${p.changesPerBatch} changes/batch; startup ${p.startupSeconds} s not counted; cpu ${p.cpuSeconds} s, event loop ${Math.round(p.eventLoopUtilization * 100)}% busy; dead letters ${JSON.stringify(p.deadLetters)}, retries ${JSON.stringify(p.retries)})`);
  console.log(`    ceiling    ${c.seconds.toFixed(2)} s  ${n(c.changesPerSecond)} changes/s  (${n(c.changes)} changes / ${n(c.ops)} ops in the ${n(c.batches)} batches round 1 applied within the range, straight to sink.apply, ${c.lanes} partitions in flight; cpu ${c.cpuSeconds} s, event loop ${Math.round(c.eventLoopUtilization * 100)}% busy)`);
  console.log(`    projector/ceiling  ${r.projectorOverCeiling}  (aim >= 0.70)`);
  const s = r.stagesSeconds;
  const u = r.perChangeUs;
  console.log(`    sink.apply calls in flight on average: projector ${r.appliesInFlight.projector}, ceiling ${r.appliesInFlight.ceiling} (the ceiling keeps ${c.lanes})`);
  console.log(`    where the projector's time went (wall time inside each port, summed over the partitions in flight; µs per change):`);
  console.log(`      batch handler ${s.batchHandler} s = decode ${s.decode} s (${u.decodeInRun} µs) + map ${s.map} s (${u.mapInRun} µs) + sink.apply ${s.sinkApply} s (${u.sinkApplyInRun} µs) + Kafka offset commit ${s.kafkaCommit} s (${u.commitInRun} µs) + rest (waiting to join a shared sink call) ${s.restOfBatchHandler} s`);
  console.log(`      per change: projector ${u.projectorWall} µs wall, ${u.projectorCpu} µs cpu; isolated: decode ${u.decodeIsolatedPerRecord} µs/record, map ${u.mapIsolated} µs, sink (ceiling) ${u.ceilingWall} µs wall`);
  const b = r.cpuBudgetUsPerChange;
  console.log(`      projector cpu per change ${b.total} µs ≈ decode ${b.decode} + map ${b.map} + sink client ${b.sinkClient} + kafkajs fetch/commit, reduce, events, GC ${b.rest}`);
  console.log(`    machine during the projector: ${describeCpu(p.machine)}`);
  console.log(`    machine during the ceiling:   ${describeCpu(c.machine)}`);
}

export function printHeader(name: string, range: { records: number; topics: number; partitions: number }, fill: Fill | null, where: string): void {
  const n = (x: number) => x.toLocaleString('en');
  const filled = fill ? `filled ${n(Object.values(fill.rows).reduce((a, b) => a + (b ?? 0), 0))} rows first (${JSON.stringify(fill.rows)}, ${fill.totalSeconds.toFixed(1)} s)` : 'reused, no fill';
  console.log(`${name}: last ${n(range.records)} records of ${range.topics} topics / ${range.partitions} partitions (${filled}); into ${where}`);
}
