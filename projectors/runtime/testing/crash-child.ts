// A projector process that kills itself (SIGKILL) between a batch's effects and its checkpoint
// write: the window a crash at the wrong moment hits, made deterministic. The fixture module
// names the store and wraps its sink so that the checkpoint write calls crash(); the rest is the
// real runtime on the projector's real topics, in a shadow generation.
//   node --import tsx crash-child.ts <fixture module> <generation>
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { loadReaderSchemas } from '../../../schemas/avro/reader-schemas.ts';
import { kafkaDeadLetter, replayTopic } from '../dead-letter.ts';
import { createDecoder, registryLookup } from '../decode/index.ts';
import { ProjectorEventBus } from '../events.ts';
import { runProjector } from '../run-projector.ts';
import type { CheckpointStore, ProjectorDefinition, Sink } from '../sink.ts';
import { projectorGroup, kafkajsSource } from '../source/kafkajs-source.ts';

export type CrashFixture<Op> = {
  definition: ProjectorDefinition<Op>;
  /** the store's sink for `generation`, calling `crash` once its effects are written and before the checkpoint is */
  crashingSink(generation: number, env: NodeJS.ProcessEnv, crash: () => never): Promise<Sink<Op> & CheckpointStore>;
};

const [fixturePath, generationArg] = process.argv.slice(2);
const { default: fixture } = (await import(pathToFileURL(fixturePath as string).href)) as { default: CrashFixture<unknown> };
const generation = Number(generationArg);
const { definition } = fixture;
const log = pino({ base: { projector: definition.name, generation, crashing: true } });
const crash = (): never => {
  log.info({ stage: 'checkpoint' }, 'effects written, checkpoint not: killing myself');
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};
const kafka = new Kafka({ clientId: `nova-crash-${definition.name}`, brokers: (process.env.KAFKA_BROKERS as string).split(','), logLevel: logLevel.ERROR });
const events = new ProjectorEventBus((error) => log.error({ err: error }, 'a listener failed'));
const running = await runProjector({
  definition,
  sink: await fixture.crashingSink(generation, process.env, crash),
  source: kafkajsSource({ kafka, groupId: projectorGroup(definition.name, generation) }),
  decode: createDecoder({ lookupSchema: registryLookup({ url: process.env.SCHEMA_REGISTRY_URL as string }), readerSchemas: loadReaderSchemas() }),
  deadLetter: await kafkaDeadLetter({ kafka, projector: definition.name, generation, sourceTopics: definition.topics }),
  events,
  log,
  replayTopic: replayTopic(definition.name),
  generation,
});
await running.done;
