// Commit-to-visible latency under a steady write load. Each projector runs as its own child
// process (freshness-projector.ts) from the end of its topics into a scratch generation; this
// process commits `rate` single-row transactions per second for `seconds`, and collects the
// per-change times each projector reports. A tap on the same topics notes when each change
// reached Kafka, which splits the latency into Debezium, waiting, and the batch itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { projectors } from '../../projectors/registry.ts';
import { ensureFixture, singleRowWrites, tablesFor, type Fixture, type Table } from './bench-rows.ts';
import { startTap, type Tap } from './commit-tap.ts';
import type { ChildMessage } from './freshness-projector.ts';
import { describeCpu, watchMachineCpu } from './machine-cpu.ts';
import { describePercentiles, machineNote, note, percentiles, round, sleep } from './measure.ts';
import { claimGeneration, type ScratchGeneration } from './scratch-generation.ts';
import { steadyWrites, type WriteLoad } from './steady-writer.ts';
import { deleteGroups } from './topic-ranges.ts';

const childScript = fileURLToPath(new URL('./freshness-projector.ts', import.meta.url));
const connections = 8;
const readyTimeoutMs = 120_000;
const drainTimeoutMs = 60_000;

type Batch = Extract<ChildMessage, { type: 'batch' }>;

type Child = {
  name: string;
  topics: string[];
  groupId: string;
  process: ChildProcess;
  batches: Batch[];
  ready: Promise<void>;
  stopped: Promise<Extract<ChildMessage, { type: 'stopped' }> | undefined>;
  stop(): void;
  samplesSince(ms: number): number;
};

function startChild(name: string, generation: ScratchGeneration): Child {
  const groupId = `nova-bench-freshness-${name}-${randomUUID()}`;
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, name, String(generation.generation), groupId], { env: process.env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const batches: Batch[] = [];
  let stopRequested = false;
  let onReady: () => void = () => {};
  let onStopped: (m: Extract<ChildMessage, { type: 'stopped' }> | undefined) => void = () => {};
  let onFailed: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => ((onReady = resolve), (onFailed = reject)));
  const stopped = new Promise<Extract<ChildMessage, { type: 'stopped' }> | undefined>((resolve) => (onStopped = resolve));
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'ready') onReady();
    else if (m.type === 'batch') batches.push(m);
    else if (m.type === 'stopped') onStopped(m);
    else if (m.type === 'failed') onFailed(new Error(`the ${name} projector process failed: ${m.error}`));
  });
  // a send racing the child's own disconnect fails with EPIPE: the exit handler covers it
  child.on('error', (error) => note(`the ${name} projector process: ${error.message}`));
  child.once('exit', (code) => {
    if (!stopRequested) note(`the ${name} projector process exited (${code}) during the run; its figures stop there`);
    onFailed(new Error(`the ${name} projector process exited (${code}) before it was ready`));
    onStopped(undefined);
  });
  const definition = projectors[name] as { topics: string[] };
  return {
    name,
    topics: definition.topics,
    groupId,
    process: child,
    batches,
    ready,
    stopped,
    stop() {
      if (stopRequested) return;
      stopRequested = true;
      if (child.connected) child.send({ type: 'stop' });
      else if (child.exitCode === null) child.kill('SIGTERM');
    },
    samplesSince: (ms) => batches.reduce((n, b) => n + b.freshnessMs.filter((f) => b.visibleAt - f >= ms).length, 0),
  };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms).unref());
  return Promise.race([promise, timeout]);
}

/** One change through each projector, so every consumer has joined and fetches before the clock starts. */
async function canary(databaseUrl: string, fixture: Fixture, children: Child[]): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    for (const child of children) {
      const before = child.batches.length;
      const write = singleRowWrites[(tablesFor[child.name]?.[0]?.table ?? 'messages') as Exclude<Table, 'conversations'>](fixture);
      await db.query(write.text, write.values);
      await within((async () => { while (child.batches.length === before) await sleep(50); })(), readyTimeoutMs, `the first change through the ${child.name} projector`);
    }
  } finally {
    await db.end();
  }
}

const topicOfKey = (key: string) => key.slice(0, key.lastIndexOf(':'));

function analyse(child: Child, tap: Tap, from: number, to: number) {
  const inWindow = (commitMs: number) => commitMs >= from && commitMs <= to;
  const freshness: number[] = [];
  const durations: number[] = [];
  let batches = 0;
  for (const b of child.batches) {
    const mine = b.freshnessMs.filter((f) => inWindow(b.visibleAt - f));
    freshness.push(...mine);
    if (mine.length > 0) (batches += 1), durations.push(b.durationMs);
  }
  const byPartition = new Map<string, Batch[]>();
  for (const b of child.batches) byPartition.set(`${b.topic}:${b.partition}`, [...(byPartition.get(`${b.topic}:${b.partition}`) ?? []), b]);
  const debezium: number[] = [];
  const kafkaToVisible: number[] = [];
  const waiting: number[] = [];
  const inBatch: number[] = [];
  let notApplied = 0;
  for (const [key, tapped] of tap.byPartition) {
    if (!child.topics.includes(topicOfKey(key))) continue;
    const applied = byPartition.get(key) ?? [];
    let j = 0;
    for (const t of tapped) {
      if (!inWindow(t.commitMs)) continue;
      while (j < applied.length && Number((applied[j] as Batch).lastOffset) < t.offset) j += 1;
      const b = applied[j];
      if (!b || Number(b.firstOffset) > t.offset) {
        notApplied += 1;
        continue;
      }
      debezium.push(t.kafkaMs - t.commitMs);
      kafkaToVisible.push(b.visibleAt - t.kafkaMs);
      waiting.push(b.visibleAt - b.durationMs - t.kafkaMs);
      inBatch.push(b.durationMs);
    }
  }
  return {
    projector: child.name,
    changes: freshness.length,
    batches,
    changesPerBatch: round(freshness.length / Math.max(1, batches), 1),
    commitToVisibleMs: percentiles(freshness),
    split: { commitToKafkaMs: percentiles(debezium), kafkaToVisibleMs: percentiles(kafkaToVisible), kafkaToBatchStartMs: percentiles(waiting), batchMs: percentiles(inBatch) },
    notAppliedAtEnd: notApplied,
  };
}

type Analysis = ReturnType<typeof analyse>;

/** Mean time per call inside each port of the child's runtime, and how many batch handlers ran at once. */
function portTimes(stages: Record<string, { calls: number; ms: number }>, load: WriteLoad) {
  const mean = (name: string) => round((stages[name]?.ms ?? 0) / Math.max(1, stages[name]?.calls ?? 0), 2);
  return {
    sourceBatches: stages['batch']?.calls ?? 0,
    meanMs: { batchHandler: mean('batch'), sinkApply: mean('sink'), kafkaCommit: mean('commit') },
    sinkApplies: stages['sink']?.calls ?? 0,
    handlersInFlight: round((stages['batch']?.ms ?? 0) / (load.endedAt - load.startedAt), 2),
  };
}

function print(a: Analysis, ownWrites: number, ports: (ReturnType<typeof portTimes> & { deadLetters: object; retries: object }) | null): void {
  console.log(`${a.projector}: ${a.changes.toLocaleString('en')} changes committed in the window (${ownWrites.toLocaleString('en')} of this load's writes touch its topics; the rest are other writers'), applied in ${a.batches.toLocaleString('en')} batches (${a.changesPerBatch} changes/batch)${a.notAppliedAtEnd ? `; ${a.notAppliedAtEnd} not applied ${drainTimeoutMs / 1000} s after the load` : ''}`);
  console.log(`  commit -> visible            ${describePercentiles(a.commitToVisibleMs)}   (aim p99 <= 500 ms)`);
  console.log(`    commit -> in Kafka          ${describePercentiles(a.split.commitToKafkaMs)}   (Debezium + Connect producer)`);
  console.log(`    in Kafka -> visible         ${describePercentiles(a.split.kafkaToVisibleMs)}   (the projector's share), of which:`);
  console.log(`      in Kafka -> batch starts  ${describePercentiles(a.split.kafkaToBatchStartMs)}   (fetch wait, other partitions' batches, offset commits)`);
  console.log(`      batch: decode, map, apply ${describePercentiles(a.split.batchMs)}`);
  if (!ports) return;
  const m = ports.meanMs;
  console.log(`  in the projector process: ${ports.sourceBatches.toLocaleString('en')} source batches, ${ports.sinkApplies.toLocaleString('en')} sink.apply calls; mean per call: batch handler ${m.batchHandler} ms, sink.apply ${m.sinkApply} ms, Kafka offset commit ${m.kafkaCommit} ms; batch handlers in flight on average ${ports.handlersInFlight}; dead letters ${JSON.stringify(ports.deadLetters)}, retries ${JSON.stringify(ports.retries)}`);
}

export async function benchFreshness(options: { projectors: string[]; rate: number; seconds: number; brokers: string; registryUrl: string; databaseUrl: string }): Promise<void> {
  const { rate, seconds, registryUrl, databaseUrl } = options;
  const warmupSeconds = Math.min(5, seconds / 4);
  const kafka = new Kafka({ clientId: 'nova-bench-freshness', brokers: options.brokers.split(','), logLevel: logLevel.ERROR });
  console.log(await machineNote());
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const { fixture } = await ensureFixture(db).finally(() => db.end());
  const tables = [...new Set(options.projectors.flatMap((name) => (tablesFor[name] ?? []).map((t) => t.table)))];
  const generations: ScratchGeneration[] = [];
  const children: Child[] = [];
  let tap: Tap | undefined;
  try {
    for (const name of options.projectors) {
      const generation = await claimGeneration(projectors[name] as (typeof projectors)[string]);
      generations.push(generation);
      note(`${name}: scratch generation: ${generation.where}; starting its process`);
      children.push(startChild(name, generation));
    }
    await within(Promise.all(children.map((c) => c.ready)), readyTimeoutMs, 'starting the projector processes');
    tap = await startTap(kafka, [...new Set(children.flatMap((c) => c.topics))], registryUrl);
    await canary(databaseUrl, fixture, children);
    note(`load: ${rate}/s single-row transactions on ${tables.join(', ')} for ${seconds} s over ${connections} connections`);
    const machine = watchMachineCpu(new Map(children.map((c) => [c.process.pid as number, `projector ${c.name} (child)`])));
    const load: WriteLoad = await steadyWrites({ databaseUrl, fixture, tables, rate, seconds, connections });
    const cpu = machine.stop();
    const drainedBy = performance.now() + drainTimeoutMs;
    const tapRef = tap;
    const drained = () => tapRef.countSince(load.startedAt) >= load.committed && children.every((c) => c.samplesSince(load.startedAt) >= tapRef.countSince(load.startedAt, c.topics));
    while (!drained() && performance.now() < drainedBy) await sleep(250);
    const from = load.startedAt + warmupSeconds * 1000;
    const results = children.map((c) => analyse(c, tapRef, from, load.endedAt));
    console.log(`load: ${load.committed.toLocaleString('en')} single-row transactions over ${connections} connections on ${tables.join(', ')}; ${load.achievedPerSecond}/s achieved of ${rate}/s for ${seconds} s (skipped ${load.skipped}, failed ${load.failed}${load.firstError ? `: ${load.firstError}` : ''}); commit ${describePercentiles(load.commitLatencyMs)}`);
    console.log(`window: changes committed from ${warmupSeconds} s after the load started (warm-up excluded) to its end`);
    const own = (name: string) => {
      const mine = new Set((tablesFor[name] ?? []).map((t) => t.table));
      return Math.round(load.committedAfter(from) * (tables.filter((t) => mine.has(t)).length / tables.length));
    };
    const stopped = await Promise.all(children.map(async (c) => (c.stop(), within(c.stopped, 30_000, `stopping ${c.name}`).catch(() => undefined))));
    const ports = stopped.map((m) => (m ? { ...portTimes(m.stages, load), deadLetters: m.deadLetters, retries: m.retries } : null));
    results.forEach((r, i) => print(r, own(r.projector), ports[i] ?? null));
    console.log(`machine during the load: ${describeCpu(cpu)}`);
    console.log(JSON.stringify({ bench: 'freshness', rate, seconds, warmupSeconds, load, machine: cpu, results: results.map((r, i) => ({ ...r, ports: ports[i] })) }));
  } finally {
    // every step runs even when one before it failed: nothing of the benchmark's may linger
    const step = (what: string, work: () => Promise<unknown>) => work().catch((error: unknown) => note(`cleanup: ${what} failed: ${(error as Error).message}`));
    for (const c of children) c.stop();
    await Promise.all(children.map((c) => within(c.stopped, 30_000, 'exit').catch(() => c.process.kill('SIGKILL'))));
    await step('stopping the tap', async () => tap?.stop());
    await step('deleting the consumer groups', () => deleteGroups(kafka, children.map((c) => c.groupId)));
    for (const g of generations) await step(`removing ${g.where}`, () => g.cleanup());
  }
}
