// `scripts/nova projector collect-tombstones`: computes the tombstone horizon of the
// projector's topics (runtime/tombstones/horizon.ts) and has the store forget the
// generation's tombstones below it.
import type { Kafka } from 'kafkajs';
import { novaConfig } from '../../config/nova-config.ts';
import { describeVersion } from '../runtime/decode/index.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { horizonOf, nothingRetained, tombstoneHorizon } from '../runtime/tombstones/horizon.ts';
import { registryDecoder } from './run.ts';

export async function collectTombstonesOf(definition: ProjectorDefinition<never>, generation: number, kafka: Kafka): Promise<number> {
  if (!definition.collectTombstones) {
    console.error(`${definition.name} has no tombstones it can collect (it keeps none, or keeps them for good: README, Known limitations)`);
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
