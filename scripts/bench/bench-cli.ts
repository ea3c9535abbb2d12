// scripts/nova bench <name>: measurements against the local stack, one subcommand each.
import { parseArgs } from 'node:util';
import { novaConfig } from '../../config/nova-config.ts';
import { projectors } from '../../projectors/registry.ts';
import { benchApi } from './api-bench.ts';
import { benchCapacity } from './capacity.ts';
import { benchDecode, fillableTopic } from './decode.ts';
import { benchFreshness } from './freshness.ts';
import { benchProjectorThroughput } from './projector-throughput.ts';
import { benchNeo4jPromote } from './neo4j-promote.ts';
import { benchNeo4jSweep } from './neo4j-sweep.ts';
import { benchRedisMemory } from './redis-memory.ts';
import { benchRedisTruncate } from './redis-truncate.ts';

export const usage = `Usage: scripts/nova bench decode [--records 200000] [--topic ${fillableTopic}]
       scripts/nova bench projector-throughput [--projector redis|elasticsearch|all] [--changes 200000]
       scripts/nova bench freshness [--projector redis|elasticsearch|all] [--rate 1000] [--seconds 120]
       scripts/nova bench api [--connections 10] [--duration 10] [--rate 200] [--seconds 20] [--api URL]
       scripts/nova bench redis-memory [--items 50000]
       scripts/nova bench redis-truncate [--keys 1000000]
       scripts/nova bench neo4j-promote [--nodes 1000000]
       scripts/nova bench neo4j-sweep [--pairs 1000000]
       scripts/nova bench capacity [--changes 40000] [--reads 200000] [--write-rate 20000] [--read-rate 1000000]

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

  api     the running API (--api, default http://127.0.0.1:$NOVA_API_PORT) under load from
          autocannon: --connections keep-alive connections, each sending its next request as
          soon as the last answered, for --duration seconds per measurement after a 1 s
          warm-up; each request acts as the next of 200 bench users. Against the same answers
          from PostgreSQL, served by a node:http server the bench starts in its own process
          (same JWT check as api/http/auth.ts, same pool as api/db.ts, the tables' own indexes):
          1. GET /notifications and /notifications/unread-count (Redis view) vs PostgreSQL:
             req/s, p50, p99 and their ratios (aim: the view >= 5x at p99);
          2. GET /suggestions: cached (user:recommended:{u}), uncached (Neo4j; each user's
             cache entry deleted after each answer, so every request is a first call), and
             the friend-of-friend query in SQL;
          3. GET /messages/search and POST /messages ('skipped: route missing (404)' while the
             API lacks them);
          4. read-your-writes: --rate likes/s (paced, open loop) for --seconds, each followed
             by the post author's GET /notifications with the like's Nova-Read-After: write
             answered -> read answered p50/p99/max (aim p99 < 250 ms at 200/s), applied vs
             stale (Nova-Consistency), and whether an applied answer holds the like.
          Setup: users bench_u000..199, posts, a follow graph with friends of friends, likes,
          @mentions until each user has >= 60 notifications, and 5 messages each, all through
          the API (a service token for POST /users); found in PostgreSQL and reused by later
          runs; then the views are waited for with the newest write's token. Writes are spread
          over the 200 users: the API allows NOVA_API_WRITES_PER_MINUTE (600) per user, so
          --rate above 2000/s gets 429s (counted). Each run adds 200 posts and --rate x
          --seconds likes, and (with the route) the messages part 3 sends.

  redis-memory
          what the Redis views keep after a long history, fed straight to the sink in a
          generation of its own: --items notifications for 10 users (each read right after it
          arrived), then --items messages in one conversation (each read by the other side at
          once); each also at a tenth of --items. Prints the bytes kept (MEMORY USAGE summed
          over the generation's keys, less the empty generation's), keys, members, bytes per
          item, and the ratio of the two sizes (1.0: the views are bounded). On the cluster
          with REDIS_URL=$REDIS_CLUSTER_URL REDIS_CLUSTER=true.

  redis-truncate
          a TRUNCATE of live_streams through the Redis sink over --keys stream:meta keys in a
          generation of its own, while a reader GETs a key in a closed loop: the sweep's time,
          and the reader's latency during it against the same reader idle (same run).

  neo4j-promote
          --nodes User nodes in a scratch generation promoted in a reader namespace of the
          bench's own (the app's User never moves), then demoted: each relabel's time, or the
          server's refusal (a transaction over its memory limit).

  neo4j-sweep
          a TRUNCATE of follows over --pairs FOLLOWS in a scratch generation through the
          projector's sink (recorded in the batch, swept in chunks), against the same pairs
          deleted in one transaction: each one's time and what is left, or the refusal.

  capacity
          the capacity model from figures measured in this run: the CPU one change costs at
          each hop (PostgreSQL, Debezium, Kafka, the Redis projector, Redis; per process from
          /proc, less each one's idle burn over as long), written as --changes notification
          rows and projected into a scratch generation; the Redis CPU of one view read
          (--reads GETs, 64 in flight); then cores, instances and masters per tier for
          --read-rate view reads/s and --write-rate row changes/s, and the first ceiling.

--projector defaults to all. Scratch generations (a claimed Redis generation, an
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

async function api(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      connections: { type: 'string', default: '10' }, duration: { type: 'string', default: '10' },
      rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '20' }, api: { type: 'string' },
    },
  });
  requireEnv('DATABASE_URL');
  requireEnv('REDIS_URL');
  requireEnv('NOVA_JWT_SECRET');
  const { host, port } = novaConfig().api();
  await benchApi({
    apiUrl: (values.api ?? `http://${host}:${port}`).replace(/\/+$/, ''),
    connections: positiveInteger(values.connections, '--connections'),
    duration: positiveInteger(values.duration, '--duration'),
    rate: positiveInteger(values.rate, '--rate'),
    seconds: positiveInteger(values.seconds, '--seconds'),
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
      case 'api':
        return await api(rest);
      case 'capacity': {
        const { values } = parseArgs({
          args: rest,
          options: { changes: { type: 'string', default: '40000' }, reads: { type: 'string', default: '200000' }, 'write-rate': { type: 'string', default: '20000' }, 'read-rate': { type: 'string', default: '1000000' } },
        });
        await benchCapacity({
          changes: positiveInteger(values.changes, '--changes'),
          reads: positiveInteger(values.reads, '--reads'),
          writeRate: positiveInteger(values['write-rate'], '--write-rate'),
          readRate: positiveInteger(values['read-rate'], '--read-rate'),
          brokers: requireEnv('KAFKA_BROKERS'),
          registryUrl: requireEnv('SCHEMA_REGISTRY_URL'),
          databaseUrl: requireEnv('DATABASE_URL'),
          env: process.env,
        });
        return 0;
      }
      case 'redis-truncate': {
        const { values } = parseArgs({ args: rest, options: { keys: { type: 'string', default: '1000000' } } });
        requireEnv('REDIS_URL');
        await benchRedisTruncate({ keys: positiveInteger(values.keys, '--keys'), env: process.env });
        return 0;
      }
      case 'neo4j-promote': {
        const { values } = parseArgs({ args: rest, options: { nodes: { type: 'string', default: '1000000' } } });
        requireEnv('NEO4J_URL');
        await benchNeo4jPromote({ nodes: positiveInteger(values.nodes, '--nodes'), env: process.env });
        return 0;
      }
      case 'neo4j-sweep': {
        const { values } = parseArgs({ args: rest, options: { pairs: { type: 'string', default: '1000000' } } });
        requireEnv('NEO4J_URL');
        await benchNeo4jSweep({ pairs: positiveInteger(values.pairs, '--pairs'), env: process.env });
        return 0;
      }
      case 'redis-memory': {
        const { values } = parseArgs({ args: rest, options: { items: { type: 'string', default: '50000' } } });
        requireEnv('REDIS_URL');
        await benchRedisMemory({ items: positiveInteger(values.items, '--items'), env: process.env });
        return 0;
      }
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
