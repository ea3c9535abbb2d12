// scripts/nova bench <name>: measurements against the local stack, one subcommand each.
import { parseArgs } from 'node:util';
import { benchDecode, fillableTopic } from './decode.ts';

export const usage = `Usage: scripts/nova bench decode [--records 200000] [--topic ${fillableTopic}]

  decode  reads one range of real Debezium records from --topic in this process, twice per
          pair: bytes only (the consume ceiling), then through the real decoder; prints
          records/s for both, their ratio and the decoder's cost per record.
          Measures the topic's last --records records; when it holds fewer, first inserts
          --records rows into user_interactions and waits for Debezium to produce them
          (only ${fillableTopic} can be filled).

Progress goes to stderr; results to stdout, as lines and one JSON line.
Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL (scripts/nova reads them from .nova/stack.env).`;

class UsageError extends Error {}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new UsageError(`${name} is not set (bring the stack up with scripts/stack up, or export it)`);
  return value;
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, not '${text}'`);
  return n;
}

async function decode(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { records: { type: 'string', default: '200000' }, topic: { type: 'string', default: fillableTopic } } });
  await benchDecode({
    records: positiveInteger(values.records, '--records'),
    topic: values.topic,
    brokers: requireEnv('KAFKA_BROKERS'),
    registryUrl: requireEnv('SCHEMA_REGISTRY_URL'),
    databaseUrl: requireEnv('DATABASE_URL'),
  });
  return 0;
}

export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  try {
    switch (name) {
      case 'decode':
        return await decode(rest);
      default:
        console.error(usage);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`nova bench: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}
