// `scripts/nova projector collect-tombstones`: computes the tombstone horizon of the
// projector's topics (runtime/tombstones/horizon.ts) and has the store forget the
// generation's tombstones below it.
import type { Kafka } from 'kafkajs';
import { novaConfig } from '../../config/nova-config.ts';
import { retainedRangeProblem } from '../runtime/checkpoint/retained.ts';
import { describeVersion } from '../runtime/decode/index.ts';
import { codes } from '../runtime/errors.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { horizonOf, nothingRetained, tombstoneHorizon } from '../runtime/tombstones/horizon.ts';
import { registryDecoder } from './run.ts';

export async function collectTombstonesOf(definition: ProjectorDefinition<never>, generation: number, kafka: Kafka): Promise<number> {
  if (!definition.collectTombstones) {
    console.error(`${definition.name} has no tombstones it can collect (it keeps none, or keeps them for good: README, Known limitations)`);
    return 1;
  }
  // a generation behind retention may hold records in memory that the topics no longer retain
  // (a lagging batch): the horizon would not see them
  const behind = await behindRetention(definition, generation, kafka);
  if (behind.length > 0) {
    console.error(`generation ${generation} is behind what the topics retain (${behind.join(', ')}): nothing collected; let it catch up, or rebuild it`);
    return 1;
  }
  console.error(`${definition.name}: reading the first retained record of each partition of ${definition.topics.join(', ')}, and every retained dead letter`);
  const horizon = await tombstoneHorizon({ kafka, projector: definition.name, topics: definition.topics, decode: registryDecoder(novaConfig().schemaRegistryUrl()) });
  for (const topic of definition.topics) {
    const h = horizonOf(horizon, topic);
    console.log(`${topic}: horizon ${h === nothingRetained ? 'none (nothing retained)' : describeVersion(h)}`);
  }
  const collected = await definition.collectTombstones({ generation, env: process.env, horizon: (topic) => horizonOf(horizon, topic) });
  for (const [kind, count] of Object.entries(collected)) console.log(`generation ${generation}: ${count} ${kind} collected`);
  return 0;
}

/** The partitions whose checkpoint in the generation is before the first record they retain. */
async function behindRetention(definition: ProjectorDefinition<never>, generation: number, kafka: Kafka): Promise<string[]> {
  const sink = await definition.createSink({ generation, env: process.env, shadow: true });
  const checkpoints = await sink.load().finally(() => sink.close());
  const admin = kafka.admin();
  await admin.connect();
  try {
    const behind: string[] = [];
    for (const topic of definition.topics) {
      for (const range of await admin.fetchTopicOffsets(topic)) {
        const checkpoint = checkpoints.find((c) => c.topic === topic && c.partition === range.partition);
        // the runtime's own check of a checkpoint against what its partition retains
        const problem = checkpoint && retainedRangeProblem(checkpoint, { topic, ...range, retentionMs: null }, true);
        if (problem?.code === codes.retentionGap) behind.push(`${topic}[${range.partition}]@${checkpoint?.nextOffset} < ${range.low}`);
      }
    }
    return behind;
  } finally {
    await admin.disconnect();
  }
}
