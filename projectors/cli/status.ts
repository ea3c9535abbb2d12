// `scripts/nova projector status`: per projector, the live generation; per partition, the
// store's checkpoint (offset and commit order) and the lag behind the partition's end.
import { Kafka, logLevel } from 'kafkajs';
import { novaConfig } from '../../config/nova-config.ts';
import { describeVersion } from '../runtime/decode/index.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';

/** `generation` undefined: each projector's live one (1 before any is live). */
export async function printStatus(definitions: ProjectorDefinition<never>[], generation: number | undefined): Promise<number> {
  const kafka = new Kafka({ clientId: 'nova-projector-status', brokers: novaConfig().kafkaBrokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const definition of definitions) {
      const live = definition.generations ? await definition.generations.live(process.env) : undefined;
      const shown = generation ?? live ?? 1;
      const sink = await definition.createSink({ generation: shown, env: process.env, shadow: true });
      const checkpoints = new Map((await sink.load()).map((c) => [`${c.topic}:${c.partition}`, c]));
      await sink.close();
      console.log(`${definition.name} (generation ${shown}; readers see ${live === undefined ? 'no generation yet' : `generation ${live}`})`);
      console.log('  topic                                   part  checkpoint        commit order        end   lag');
      for (const topic of definition.topics) {
        const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
        for (const { partition, high } of offsets) {
          const c = checkpoints.get(`${topic}:${partition}`);
          const next = c?.nextOffset ?? '-';
          const lag = c ? Number(high) - Number(c.nextOffset) : Number(high);
          console.log(`  ${topic.padEnd(40)}${String(partition).padStart(4)}  ${next.padStart(10)}  ${(c?.commitOrder === null || c === undefined ? '-' : describeVersion(c.commitOrder)).padStart(18)}  ${high.padStart(6)}  ${String(lag).padStart(4)}`);
        }
      }
    }
    return 0;
  } finally {
    await admin.disconnect();
  }
}
