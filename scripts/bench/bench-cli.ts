// scripts/nova bench <name>: measurements against the local stack, one subcommand each.
import { parseArgs } from 'node:util';
import { projectors } from '../../projectors/registry.ts';
import { benchDecode, fillableTopic } from './decode.ts';
import { benchFreshness } from './freshness.ts';
import { benchProjectorThroughput } from './projector-throughput.ts';

export const usage = `Usage: scripts/nova bench decode [--records 200000] [--topic ${fillableTopic}]
       scripts/nova bench projector-throughput [--projector redis|elasticsearch|all] [--changes 200000]
       scripts/nova bench freshness [--projector redis|elasticsearch|all] [--rate 1000] [--seconds 120]

  decode  reads one range of real Debezium records from --topic in this process, twice per
          pair: bytes only (the consume ceiling), then through the real decoder; prints
          records/s for both, their ratio and the decoder's cost per record.
          Measures the topic's last --records records; when it holds fewer, first inserts
          --records rows into user_interactions and waits for Debezium to produce them
          (only ${fillableTopic} can be filled).

  projector-throughput
          (a) runs the projector in this process (runProjector, the kafkajs source, the real
          decoder, mapping and sink) over the last --changes records of its topics into a
          scratch generation, until its checkpoints reach the end offsets recorded at the
          start; (b) decodes and maps the same records beforehand, then applies them in the
          batches (a) applied straight to the sink, in the emptied scratch generation: the
          store's ceiling. Two rounds, in opposite orders. Prints changes/s of both,
          projector/ceiling (aim >= 0.70), the time spent in decode, map, sink.apply and the
          Kafka offset commit, and which services of the stack used the machine's cores.
          When the topics hold fewer records, first inserts the shortfall through PostgreSQL
          (redis: notifications, messages, follows; elasticsearch: messages, posts, users).

  freshness
          runs each projector as its own process from the end of its topics into a scratch
          generation, then commits --rate single-row transactions per second (paced every
          10 ms over 8 connections) on its tables for --seconds; prints commit-to-visible
          latency per change committed after a warm-up (min(5 s, --seconds/4)): p50, p95,
          p99, max (aim p99 <= 500 ms), split into commit -> Kafka (Debezium) and Kafka ->
          visible (waiting for the batch, the batch), and the achieved write rate. Visible
          means what the runtime reports: the store acknowledged the write (for
          Elasticsearch, searchable after the index's next refresh).

--projector defaults to all. Scratch generations (an empty Redis database 2..15, an
Elasticsearch generation >= 1000) and the benchmark's consumer groups are removed afterwards;
live ones are never used. Rows inserted into PostgreSQL stay: later runs reuse them.
Progress goes to stderr; results to stdout, as lines and one JSON line.
Environment: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL, REDIS_URL, ELASTICSEARCH_URL
(scripts/nova reads them from .nova/stack.env).`;

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

const storeEnv: Record<string, string> = { redis: 'REDIS_URL', elasticsearch: 'ELASTICSEARCH_URL' };

/** The projectors --projector names, after checking their stores' settings are there. */
function projectorNames(value: string): string[] {
  if (value !== 'all' && !projectors[value]) throw new UsageError(`--projector must be one of ${Object.keys(projectors).join(', ')} or all, not '${value}'`);
  const names = value === 'all' ? Object.keys(projectors) : [value];
  for (const name of names) if (storeEnv[name]) requireEnv(storeEnv[name] as string);
  return names;
}

async function projectorThroughput(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { projector: { type: 'string', default: 'all' }, changes: { type: 'string', default: '200000' } } });
  await benchProjectorThroughput({
    projectors: projectorNames(values.projector),
    changes: positiveInteger(values.changes, '--changes'),
    brokers: requireEnv('KAFKA_BROKERS'),
    registryUrl: requireEnv('SCHEMA_REGISTRY_URL'),
    databaseUrl: requireEnv('DATABASE_URL'),
  });
  return 0;
}

async function freshness(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { projector: { type: 'string', default: 'all' }, rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '120' } } });
  await benchFreshness({
    projectors: projectorNames(values.projector),
    rate: positiveInteger(values.rate, '--rate'),
    seconds: positiveInteger(values.seconds, '--seconds'),
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
      case 'projector-throughput':
        return await projectorThroughput(rest);
      case 'freshness':
        return await freshness(rest);
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
