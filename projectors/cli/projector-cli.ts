// scripts/nova projector run|status
import { parseArgs } from 'node:util';
import { projectors } from '../registry.ts';
import { runProjectorProcess } from './run.ts';
import { printStatus } from './status.ts';

export const usage = `Usage: scripts/nova projector <run NAME | status [NAME]> [options]

  run NAME     run one projector in this process until SIGTERM/SIGINT (finishes the batch
               in flight, checkpoints, exits 0); logs are pino JSON on stdout
  status       per projector and partition: the store's checkpoint offset and LSN, and lag

Options:
  --generation N        which generation of the views to fill (default 1)
  --metrics-port P      /metrics, /healthz, /readyz on 127.0.0.1:P (default 0: any free port)
  --max-batch N         records per batch at most (default 2000)

Projectors: ${Object.keys(projectors).join(', ')}`;

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { generation: { type: 'string', default: '1' }, 'metrics-port': { type: 'string', default: '0' }, 'max-batch': { type: 'string', default: '2000' } },
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
  } catch (error) {
    console.error(`nova projector: ${(error as Error).message}`);
    return 2;
  }
  console.error(usage);
  return 2;
}
