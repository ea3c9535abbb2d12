// The capacity model, printed from figures measured in this run: what one change costs in CPU
// at each hop of the write path (PostgreSQL and its walsender, Debezium in Kafka Connect, the
// Kafka broker, the Redis projector's process, Redis), and what one view read costs Redis; then
// what the seed's load needs of each tier at a stated write rate, and where the first ceiling
// is. CPU is read from /proc per process over each phase, less what the same processes burn
// idle over as long (machine-cpu.ts), so a contended machine skews it less than wall time.
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { redisProjector } from '../../projectors/redis/index.ts';
import { openRedisViews } from '../../projectors/redis/views.ts';
import type { ProjectorDefinition } from '../../projectors/runtime/sink.ts';
import { bulkInserts, ensureFixture, fillBatchRows, topicOf } from './bench-rows.ts';
import { watchMachineCpu, type CpuShare } from './machine-cpu.ts';
import { machineNote, note, round, secondsSince, sleep } from './measure.ts';
import { projectorPass } from './projector-pass.ts';
import { claimGeneration } from './scratch-generation.ts';
import { heldRanges, lastRecords, waitForGrowth } from './topic-ranges.ts';
import { performance } from 'node:perf_hooks';

/** CPU-microseconds per item, per service, less the idle burn measured beforehand. */
type Costs = Record<string, number>;

const idleSeconds = 5;

async function idleBurn(): Promise<CpuShare | undefined> {
  const watch = watchMachineCpu();
  await sleep(idleSeconds * 1000);
  return watch.stop();
}

function perItem(share: CpuShare | undefined, idle: CpuShare | undefined, seconds: number, items: number, services: string[]): Costs {
  const costs: Costs = {};
  for (const service of services) {
    const busy = (share?.byService[service] ?? 0) - (idle?.byService[service] ?? 0);
    costs[service] = round((Math.max(0, busy) * seconds * 1e6) / items, 1);
  }
  return costs;
}

const sumOf = (costs: Costs) => Object.values(costs).reduce((a, b) => a + b, 0);

export async function benchCapacity(options: { changes: number; reads: number; writeRate: number; readRate: number; brokers: string; registryUrl: string; databaseUrl: string; env: NodeJS.ProcessEnv }) {
  const { changes, writeRate, readRate, brokers, registryUrl, databaseUrl } = options;
  console.log(await machineNote());
  const kafka = new Kafka({ clientId: 'nova-bench-capacity', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  const db = new pg.Client({ connectionString: databaseUrl });
  await Promise.all([admin.connect(), db.connect()]);
  const topic = topicOf.notifications;
  try {
    note('capacity: idle burn of every process');
    const idle = await idleBurn();

    // 1. the write path: rows into PostgreSQL until Debezium has produced every one to Kafka
    const { fixture } = await ensureFixture(db);
    const before = await heldRanges(admin, [topic]);
    const writeStarted = performance.now();
    const writes = watchMachineCpu(new Map([[process.pid, 'this benchmark process']]));
    for (let done = 0; done < changes; done += fillBatchRows) await bulkInserts.notifications(db, fixture, Math.min(fillBatchRows, changes - done), 'capacity');
    const after = await waitForGrowth(admin, before, new Map([[topic, changes]]));
    const writeSeconds = secondsSince(writeStarted);
    const writeShare = writes.stop();
    const writePath = perItem(writeShare, idle, writeSeconds, changes, ['postgres', 'connect', 'kafka']);
    // one connector: one task on one replication slot (its throughput here bounds it from below)
    const connector = { perSecond: Math.round(changes / writeSeconds), cores: round((writeShare?.byService.connect ?? 0) - (idle?.byService.connect ?? 0), 2) };

    // 2. the Redis projector over exactly those records, into a scratch generation
    const generation = await claimGeneration(redisProjector as ProjectorDefinition<never>);
    let project: Costs;
    let projectorPerSecond: number;
    let loop: number;
    try {
      const ranges = lastRecords(after, changes);
      const pass = await projectorPass({ kafka, registryUrl, databaseUrl }, redisProjector as ProjectorDefinition<never>, generation, ranges);
      project = perItem(pass.machine, idle, pass.seconds, pass.records, ['this benchmark process', 'redis', 'kafka']);
      projectorPerSecond = Math.round(pass.records / pass.seconds);
      loop = pass.eventLoopUtilization;
    } finally {
      await generation.cleanup();
    }

    // 3. view reads: GET notification:recent:{u} from this process, 64 in flight
    const views = openRedisViews(options.env);
    await views.read((r) => r.ping()); // connected before the lanes start
    const users = fixture.users;
    let read = 0;
    const readStarted = performance.now();
    const reads = watchMachineCpu(new Map([[process.pid, 'this benchmark process']]));
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (read < options.reads) await views.read((r, keys) => r.get(keys.notificationsRecent(users[read++ % users.length])));
    }));
    const readSeconds = secondsSince(readStarted);
    const readCost = perItem(reads.stop(), idle, readSeconds, options.reads, ['redis']);
    await views.close();

    const hops: Array<[string, number]> = [
      ['PostgreSQL (commit, WAL, walsender decoding)', writePath.postgres as number],
      ['Debezium (Kafka Connect: decode, Avro, produce)', writePath.connect as number],
      ['Kafka broker (produce + the projector\'s fetch)', (writePath.kafka as number) + (project.kafka as number)],
      ['Redis projector process (fetch, decode, map, scripts)', project['this benchmark process'] as number],
      ['Redis (the projector\'s scripts)', project.redis as number],
    ];
    console.log(`\nmeasured here: ${changes.toLocaleString('en')} notification rows, written in ${round(writeSeconds, 1)} s and projected at ${projectorPerSecond.toLocaleString('en')} changes/s (event loop ${loop}); ${options.reads.toLocaleString('en')} view reads in ${round(readSeconds, 1)} s`);
    for (const [hop, us] of hops) console.log(`  ${hop}: ${us} CPU-us per change`);
    console.log(`  Redis, one GET of notification:recent:{u}: ${readCost.redis} CPU-us per read`);
    console.log(`  whole write path: ${round(sumOf(Object.fromEntries(hops)), 1)} CPU-us per change`);

    // the model: cores per tier at 60% utilisation; single-threaded servers need one process per core
    const utilisation = 0.6;
    const cores = (rate: number, us: number) => (rate * us) / 1e6 / utilisation;
    const plan = {
      postgresCores: cores(writeRate, hops[0]?.[1] ?? 0),
      connectCores: cores(writeRate, hops[1]?.[1] ?? 0),
      kafkaCores: cores(writeRate, hops[2]?.[1] ?? 0),
      projectorInstances: Math.ceil(cores(writeRate, hops[3]?.[1] ?? 0)),
      redisMastersForWrites: cores(writeRate, hops[4]?.[1] ?? 0),
      redisMastersForReads: cores(readRate, readCost.redis as number),
    };
    const connectors = Math.ceil(writeRate / connector.perSecond);
    console.log(`\nthe seed's load: ${readRate.toLocaleString('en')} view reads/s, and a stated ${writeRate.toLocaleString('en')} row changes/s (60% utilisation per core)`);
    console.log(`  PostgreSQL: ${round(plan.postgresCores, 1)} cores for the writes' share of commit + WAL + decoding (the API's own queries come on top)`);
    console.log(`  Debezium: ${round(plan.connectCores, 1)} cores. The first ceiling: one PostgreSQL connector is one task on one replication slot (one walsender); here it carried ${connector.perSecond.toLocaleString('en')} changes/s on ${connector.cores} cores, so the stated rate needs ${connectors} or more connectors over disjoint publications (a table's changes stay on one slot, in order)`);
    console.log(`  Kafka: ${round(plan.kafkaCores, 1)} broker cores for one produce and one projector's fetch (x3 replication and each further projector add to it)`);
    console.log(`  Redis projector: ${plan.projectorInstances} instances (one Node process is one core); each topic needs at least as many partitions (notifications has 8)`);
    console.log(`  Redis: ${round(plan.redisMastersForReads, 1)} masters for the reads + ${round(plan.redisMastersForWrites, 1)} for the projector's writes (one core each; a replica per master)`);
    console.log(JSON.stringify({ bench: 'capacity', changes, reads: options.reads, writeRate, readRate, costsUs: Object.fromEntries(hops), readUs: readCost.redis, projectorPerSecond, connector, connectors, plan }));
  } finally {
    await Promise.all([admin.disconnect(), db.end()]);
  }
}
