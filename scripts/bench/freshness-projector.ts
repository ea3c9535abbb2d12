// Child process of `scripts/nova bench freshness`: one projector in its own process, as in
// production, assembled like `projector run` (in-process-projector.ts), starting at the end of
// its topics in a scratch generation. It reports every applied batch to the parent over IPC,
// with the per-change commit-to-visible times the runtime computed, so the parent gets exact
// percentiles rather than histogram buckets.
//   node --import tsx scripts/bench/freshness-projector.ts <projector> <generation> <group id>
import { Kafka, logLevel } from 'kafkajs';
import { projectors } from '../../projectors/registry.ts';
import { startInProcess } from './in-process-projector.ts';
import { sinkOnGeneration } from './scratch-generation.ts';
import { partitionKey } from './topic-ranges.ts';

/** What the child tells the parent. */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'batch'; topic: string; partition: number; firstOffset: string; lastOffset: string; changes: number; durationMs: number; visibleAt: number; freshnessMs: number[] }
  | { type: 'stopped'; deadLetters: Record<string, number>; retries: Record<string, number>; stages: Record<string, { calls: number; ms: number }> }
  | { type: 'failed'; error: string };

const send = (message: ChildMessage) => process.send?.(message);

async function main([name, generation, groupId]: string[]): Promise<void> {
  const definition = name ? projectors[name] : undefined;
  if (!definition || !generation || !groupId) throw new Error('usage: freshness-projector.ts <projector> <generation> <group id>');
  const kafka = new Kafka({ clientId: `nova-bench-freshness-${name}`, brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, string>();
  try {
    for (const topic of definition.topics) for (const o of await admin.fetchTopicOffsets(topic)) ends.set(partitionKey(topic, o.partition), o.high);
  } finally {
    await admin.disconnect();
  }
  const projector = await startInProcess({
    definition,
    sink: await sinkOnGeneration(definition, Number(generation)),
    kafka,
    registryUrl: process.env.SCHEMA_REGISTRY_URL ?? '',
    groupId,
    // a scratch generation starts at the end: only the changes written during the benchmark
    startAt: (topic, partition) => ends.get(partitionKey(topic, partition)),
  });
  projector.events.on('projector.batch_applied', (e) => {
    const { topic, partition, firstOffset, lastOffset, changes, durationMs, freshnessMs } = e;
    send({ type: 'batch', topic, partition, firstOffset, lastOffset, changes, durationMs, visibleAt: Date.now(), freshnessMs });
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= projector.running.stop().then(() => {
      send({ type: 'stopped', deadLetters: Object.fromEntries(projector.deadLetters), retries: Object.fromEntries(projector.retries), stages: projector.stages });
      process.disconnect?.();
    }));
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') void stop();
  });
  process.once('disconnect', () => void stop()); // the parent went away: never linger
  send({ type: 'ready' });
  await projector.running.done;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  send({ type: 'failed', error: (error as Error).message });
  process.exitCode = 1;
  process.disconnect?.();
});
