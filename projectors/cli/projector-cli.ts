// scripts/nova projector run|status
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { projectors } from '../registry.ts';
import { replayDeadLetters } from '../runtime/dead-letter-replay.ts';
import { runProjectorProcess } from './run.ts';
import { printStatus } from './status.ts';

export const usage = `Usage: scripts/nova projector <run NAME | status [NAME] | dlq-replay NAME> [options]

  run NAME     run one projector in this process until SIGTERM/SIGINT (finishes the batch
               in flight, checkpoints, exits 0); logs are pino JSON on stdout
  status       per projector and partition: the store's checkpoint offset and LSN, and lag
  dlq-replay NAME
               re-feed the projector's dead letters (nova.dlq.NAME) to the topics and
               partitions they came from, once each; --dry-run lists them only

Options:
  --dry-run             with dlq-replay: list, do not re-feed
  --generation N        which generation of the views to fill (default 1)
  --metrics-port P      /metrics, /healthz, /readyz on 127.0.0.1:P (default 0: any free port)
  --max-batch N         records per batch at most (default 2000)

Projectors: ${Object.keys(projectors).join(', ')}`;

const cliKafka = () => new Kafka({ clientId: 'nova-projector-cli', brokers: (process.env.KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.ERROR });

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { 'dry-run': { type: 'boolean', default: false }, generation: { type: 'string', default: '1' }, 'metrics-port': { type: 'string', default: '0' }, 'max-batch': { type: 'string', default: '2000' } },
  });
  const [command, name] = positionals;
  const generation = Number(values.generation);
  const pick = (n: string | undefined) => {
    const definition = n ? projectors[n] : undefined;
    if (!definition) throw new Error(`unknown projector '${n ?? ''}' (one of: ${Object.keys(projectors).join(', ')})`);
    return definition;
  };
  try {
    if (command === 'run') {
      return await runProjectorProcess(pick(name), { generation, metricsPort: Number(values['metrics-port']), maxBatchRecords: Number(values['max-batch']) });
    }
    if (command === 'status') return await printStatus(name ? [pick(name)] : Object.values(projectors), generation);
    if (command === 'dlq-replay') {
      const report = await replayDeadLetters({ kafka: cliKafka(), projector: pick(name).name, dryRun: values['dry-run'], onLetter: (line) => console.log(line) });
      console.log(`${report.refed} ${values['dry-run'] ? 'to re-feed' : 're-fed'}, ${report.skipped} skipped`);
      return 0;
    }
  } catch (error) {
    console.error(`nova projector: ${(error as Error).message}`);
    return 2;
  }
  console.error(usage);
  return 2;
}
