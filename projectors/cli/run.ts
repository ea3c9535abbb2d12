// `scripts/nova projector run <name>`: one projector, one process. Assembles the runtime
// from its parts; SIGTERM/SIGINT finish the batch in flight, checkpoint and exit 0.
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { loadReaderSchemas } from '../../schemas/avro/reader-schemas.ts';
import { kafkaDeadLetter } from '../runtime/dead-letter.ts';
import { createDecoder, registryLookup } from '../runtime/decode/index.ts';
import { ProjectorEventBus } from '../runtime/events.ts';
import { projectorMetrics, serveMetrics } from '../runtime/metrics.ts';
import { runProjector } from '../runtime/run-projector.ts';
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { kafkajsSource } from '../runtime/source/kafkajs-source.ts';

export type RunOptions = { generation: number; metricsPort: number; maxBatchRecords: number };

const required = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (scripts/nova reads .nova/stack.env once the stack is up)`);
  return value;
};

export async function runProjectorProcess(definition: ProjectorDefinition<never>, options: RunOptions): Promise<number> {
  const log = pino({ base: { projector: definition.name, generation: options.generation } });
  const kafka = new Kafka({ clientId: `nova-projector-${definition.name}`, brokers: required('KAFKA_BROKERS').split(','), logLevel: logLevel.ERROR });
  const events = new ProjectorEventBus((error, event) => log.error({ err: error, event }, 'an event listener failed'));
  events.on('projector.batch_applied', (e) => log.debug({ stage: 'sink', ...e, freshnessMs: undefined }, 'batch applied'));
  let ready = false;
  const server = serveMetrics({ registry: projectorMetrics(events, definition.name), port: options.metricsPort, ready: () => ready });

  const running = await runProjector({
    definition,
    sink: await definition.createSink({ generation: options.generation, env: process.env }),
    // the group is per generation: a new generation must not inherit the old one's offsets
    source: kafkajsSource({ kafka, groupId: `nova-projector-${definition.name}-g${options.generation}` }),
    decode: createDecoder({ lookupSchema: registryLookup({ url: required('SCHEMA_REGISTRY_URL') }), readerSchemas: loadReaderSchemas() }),
    deadLetter: await kafkaDeadLetter({ kafka, projector: definition.name }),
    events,
    log,
    maxBatchRecords: options.maxBatchRecords,
  });
  ready = true;
  const address = server.address();
  log.info({ stage: 'source', topics: definition.topics, metrics: typeof address === 'object' && address ? `http://127.0.0.1:${address.port}/metrics` : undefined }, 'projector running');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping after the batch in flight');
    void running.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    await running.done;
    log.info('stopped cleanly');
    return 0;
  } catch (error) {
    log.fatal({ err: error }, 'projector crashed');
    return 1;
  } finally {
    server.close();
  }
}
