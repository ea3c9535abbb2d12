// Issue 11, "Kafka with three brokers": the cluster profile (scripts/stack up kafka-cluster
// connect-cluster: three KRaft nodes, a Connect worker on them), the nova topics on it at
// replication factor 3 with min.insync.replicas 2, a Debezium connector of this test's own
// (its own slot, the same database and publication, topic.prefix nova and nova-postgres's
// routing, so the topics are the contract's; an initial snapshot of everything; acks=all), and
// the Redis projector as a process reading them into a generation of its own. While a workload
// writes, the broker leading the most of the projector's partitions is kill -9ed; once it is
// fenced, changes must still be published and applied, and then it is brought back with
// `scripts/stack up kafka-cluster` (only that node starts). Then every Redis key must
// equal PostgreSQL (nothing lost, nothing doubled), the projector must be the very process that
// started (no crash loop), and the connector and its task RUNNING.
// Not run by default (the .cluster-profile.test.ts suffix): it starts three more JVMs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { connectRequest, connectorStatus, putConnectorConfig } from '../../connectors/connect-rest.ts';
import { epochOfConfig, storedEpoch, withSourceEpoch } from '../../connectors/epoch.ts';
import { loadConnector } from '../../connectors/register.ts';
import { dropReplicationSlot, replicatorFromEnv } from '../../connectors/slot.ts';
import { topicPlan } from '../../connectors/topic-plan.ts';
import { env, stack, stackEnv, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { redisTopics } from '../redis/mapping/index.ts';
import { assertMatchesPostgres, caughtUp, storedCheckpoints } from '../redis/test/harness.ts';
import { claimGeneration } from '../redis/test/own-generation.ts';
import { runWorkload } from '../redis/test/workload.ts';
import { deadLetterTopic, replayTopic } from './dead-letter.ts';
import { outputTail, startProjector, stopProjector, type ProjectorProcess } from './testing/projector-process.ts';
import { throwawayConfig } from './testing/throwaway-connector.ts';

const run = randomUUID().slice(0, 8);
const connector = `nova-kafka-cluster-${run}`;
const slot = `nova_kafka_cluster_${run}`;
const heartbeatTopic = '__debezium-heartbeat.nova';
const own = await claimGeneration(process.env);
const { redis, generation } = own;
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
let cluster: { brokers: string[]; connectUrl: string; stateDir: string; basePort: number };
let kafka: Kafka;
let projector: ProjectorProcess | undefined;
let registered = false;
let plannedTopics: string[] = [];

const adminOf = (brokers: string[]) => new Kafka({ clientId: `nova-kafka-cluster-test-${run}`, brokers, logLevel: logLevel.NOTHING }).admin();
async function withAdmin<T>(brokers: string[], use: (admin: ReturnType<typeof adminOf>) => Promise<T>): Promise<T> {
  const admin = adminOf(brokers);
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}
/** The pid a cluster node's pidfile names (scripts/stack.d/lib.sh: "pid starttime"). */
const nodePid = async (n: number) => Number((await readFile(`${cluster.stateDir}/kafka-cluster-${n}/pid`, 'utf8')).split(' ')[0]);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const slotConfirmed = async (lsn: string) =>
  (await db.query(`SELECT confirmed_flush_lsn >= $2::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $1`, [slot, lsn])).rows[0]?.done === true;
const currentLsn = async () => (await db.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn as string;

/** Deletes topics left on the cluster (by an earlier run) and waits until they are gone. */
async function deleteTopics(topics: string[]) {
  await withAdmin(cluster.brokers, async (admin) => {
    const present = (await admin.listTopics()).filter((t) => topics.includes(t));
    if (present.length === 0) return;
    await admin.deleteTopics({ topics: present, timeout: 60_000 });
    await waitFor('the old topics to be gone', async () => ((await admin.listTopics()).some((t) => present.includes(t)) ? undefined : true), 60_000);
  });
}

before(async () => {
  const t0 = Date.now();
  await stack('up', 'kafka-cluster', 'connect-cluster');
  const settings = await stackEnv();
  const setting = (name: string) => settings.get(name) ?? assert.fail(`scripts/stack env names no ${name}`);
  const brokers = setting('KAFKA_CLUSTER_BROKERS').split(',');
  cluster = { brokers, connectUrl: setting('KAFKA_CONNECT_CLUSTER_URL'), stateDir: setting('NOVA_STATE_DIR'), basePort: Number((brokers[0] as string).split(':')[1]) };
  console.log(`# kafka-cluster and connect-cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  kafka = new Kafka({ clientId: `nova-kafka-cluster-test-${run}`, brokers, logLevel: logLevel.NOTHING });
  await db.connect();
}, { timeout: 600_000 });

after(async () => {
  if (projector) await stopProjector(projector).catch(() => undefined);
  if (registered) await connectRequest(cluster.connectUrl, 'DELETE', `/connectors/${connector}`).catch(() => undefined);
  // a leftover slot would hold WAL on the shared PostgreSQL forever
  await dropReplicationSlot(replicatorFromEnv(process.env), slot).catch((error) => console.log(`# could not drop slot ${slot}: ${(error as Error).message}`));
  if (cluster) await deleteTopics([...plannedTopics, heartbeatTopic, deadLetterTopic('redis'), replayTopic('redis')]).catch(() => undefined);
  await own.release();
  await db.end();
});

/** nova-postgres's config for this test's connector: its own slot and JMX names, nova-postgres's routing and topic groups, acks=all, a heartbeat that moves the slot. */
async function connectorConfig(): Promise<Record<string, string>> {
  const { config } = await loadConnector();
  const routing = Object.fromEntries(Object.entries(config).filter(([key]) => key.startsWith('transforms') || key.startsWith('predicates') || key.startsWith('topic.creation.')));
  const ours = await throwawayConfig(connector, slot, {
    ...routing,
    'snapshot.mode': 'initial',
    // no heartbeat query (nova-postgres writes its table); the heartbeats carry the slot past other WAL
    'heartbeat.interval.ms': '1000',
    'topic.heartbeat.prefix': '__debezium-heartbeat',
    'producer.override.acks': 'all',
    'producer.override.enable.idempotence': 'true',
  });
  // signals and notifications are nova-postgres's
  for (const key of ['signal.data.collection', 'signal.enabled.channels', 'notification.enabled.channels', 'notification.sink.topic.name', 'heartbeat.action.query']) delete ours[key];
  const epoch = (await storedEpoch(db, 'nova-postgres')) ?? epochOfConfig(config) ?? { epoch: 0, streamSince: 0 };
  return withSourceEpoch(ours, epoch);
}

type PartitionState = { topic: string; partition: number; leader: number; isr: number[] };
async function partitionStates(brokers: string[], topics: string[]): Promise<PartitionState[]> {
  return withAdmin(brokers, async (admin) =>
    (await admin.fetchTopicMetadata({ topics })).topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, isr: p.isr }))),
  );
}

test('one of three brokers kill -9ed mid-run and brought back: nothing lost, nothing doubled, the projector never exits, the connector runs', { timeout: 1_500_000 }, async (t) => {
  t.after(() => t.diagnostic(`last projector output:\n${outputTail(projector, 15)}`));
  // the nova topics, as the connector's plan gives them, on all three brokers
  const { config } = await loadConnector();
  const plan = topicPlan(config);
  plannedTopics = plan.map((p) => p.topic);
  await deleteTopics([...plannedTopics, heartbeatTopic, deadLetterTopic('redis'), replayTopic('redis')]);
  await withAdmin(cluster.brokers, (admin) =>
    admin.createTopics({
      waitForLeaders: true,
      topics: plan.map((p) => ({
        topic: p.topic,
        numPartitions: p.partitions,
        replicationFactor: 3,
        configEntries: [
          { name: 'min.insync.replicas', value: '2' },
          { name: 'cleanup.policy', value: 'delete' },
          ...(p.retentionMs === null ? [] : [{ name: 'retention.ms', value: String(p.retentionMs) }]),
          ...(p.maxMessageBytes === null ? [] : [{ name: 'max.message.bytes', value: String(p.maxMessageBytes) }]),
        ],
      })),
    }),
  );
  const created = await partitionStates(cluster.brokers, redisTopics);
  assert.ok(created.every((p) => p.isr.length === 3), 'every partition has three in-sync replicas');

  await putConnectorConfig(cluster.connectUrl, connector, await connectorConfig());
  registered = true;
  const connectorRunning = async () => {
    const status = await connectorStatus(cluster.connectUrl, connector);
    const task = status.tasks[0];
    if (task?.state === 'FAILED') throw new Error(`the connector's task failed: ${task.trace?.slice(0, 2000)}`);
    return status.connector.state === 'RUNNING' && task?.state === 'RUNNING' ? status : undefined;
  };
  await waitFor('the connector and its task to run', connectorRunning, 120_000);

  const args = ['--generation', String(generation), '--shadow', '--max-batch', '500', '--metrics-port', '0'];
  const started = startProjector('redis', args, { ...process.env, KAFKA_BROKERS: cluster.brokers.join(',') });
  projector = started;
  const projectorPid = started.child.pid;

  // The workload, in rounds of 500 statements, until the broker is back in every ISR and two
  // more rounds have run; a round starts once Debezium published the round before the last
  // (so writes go on through the outage, at most a round ahead of CDC).
  const now: { phase: 'before' | 'down' | 'back' } = { phase: 'before' };
  let roundsBack = 0;
  let rounds = 0;
  const roundEnds: string[] = [];
  const workload = (async () => {
    while (now.phase !== 'back' || roundsBack < 2) {
      const behind = roundEnds.at(-2);
      if (behind) await waitFor('Debezium to publish the round before the last', async () => ((await slotConfirmed(behind)) ? true : undefined), 300_000);
      await runWorkload(db, { statements: 500, tag: `kafka-cluster-${run}-${rounds}` });
      roundEnds.push(await currentLsn());
      rounds += 1;
      if (now.phase === 'back') roundsBack += 1;
      if (rounds > 400) throw new Error('the workload ran 400 rounds without the broker coming back');
    }
  })();
  const workloadFailed = workload.then(() => undefined);

  // the projector at work on the stream: its checkpoints moved since the workload began
  const startedAt = await storedCheckpoints(redis, generation);
  await Promise.race([
    workloadFailed,
    waitFor('the snapshot and the first rounds to be applied', async () => {
      if (started.child.exitCode !== null) throw new Error(`the projector exited: ${outputTail(started)}`);
      const stored = await storedCheckpoints(redis, generation);
      return rounds >= 2 && [...stored].some(([key, next]) => next > (startedAt.get(key) ?? 0n)) ? true : undefined;
    }, 600_000),
  ]);

  // the victim: the node leading the most of the projector's partitions
  const states = await partitionStates(cluster.brokers, redisTopics);
  const brokerPorts = await withAdmin(cluster.brokers, async (admin) => new Map((await admin.describeCluster()).brokers.map((b) => [b.nodeId, b.port])));
  const led = new Map<number, number>();
  for (const p of states) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
  const [victimId, victimLeads] = [...led].sort((a, b) => b[1] - a[1])[0] as [number, number];
  const victim = (brokerPorts.get(victimId) as number) - cluster.basePort;
  const survivors = cluster.brokers.filter((_, n) => n !== victim);
  const pidsBefore = await Promise.all([0, 1, 2].map(nodePid));
  const victimPid = pidsBefore[victim] as number;
  t.diagnostic(`victim: kafka-cluster-${victim} (node.id ${victimId}, pid ${victimPid}), leading ${victimLeads} of ${states.length} partitions; leaders ${JSON.stringify(Object.fromEntries(led))}`);
  const outputBefore = started.output.join('').length;
  const killedAt = Date.now();
  now.phase = 'down';
  process.kill(victimPid, 'SIGKILL');
  await waitFor('the victim to be gone', async () => (alive(victimPid) ? undefined : true), 30_000);

  // the controller fences it: its partitions move to the survivors, it leaves every ISR
  await waitFor('the survivors to lead every partition without the victim in any ISR', async () => {
    const moved = await partitionStates(survivors, redisTopics);
    return moved.every((p) => p.leader !== victimId && p.leader >= 0 && !p.isr.includes(victimId)) ? true : undefined;
  }, 120_000);
  const fencedAfter = Date.now() - killedAt;
  const taskDuring = (await connectorStatus(cluster.connectUrl, connector)).tasks[0]?.state;
  // writes go on through the outage, end to end: with two of three brokers (min ISR 2) Debezium
  // publishes with acks=all, and the projector applies what it published
  const atFence = await storedCheckpoints(redis, generation);
  const appliedDuringOutage = await waitFor('changes published and applied while the broker is down', async () => {
    if (started.child.exitCode !== null) throw new Error(`the projector exited: ${outputTail(started)}`);
    const moved = [...(await storedCheckpoints(redis, generation))].reduce((n, [key, next]) => n + (next - (atFence.get(key) ?? 0n)), 0n);
    return moved > 0n ? moved : undefined;
  }, 300_000);

  const upAt = Date.now();
  await stack('up', 'kafka-cluster');
  const upTook = Date.now() - upAt;
  const pidsAfter = await Promise.all([0, 1, 2].map(nodePid));
  pidsAfter.forEach((pid, n) => {
    if (n === victim) assert.notEqual(pid, victimPid, 'the victim runs again as a new process');
    else assert.equal(pid, pidsBefore[n], `kafka-cluster-${n} kept running: \`up\` started only the missing node`);
  });
  await waitFor('the victim back in every ISR', async () => ((await partitionStates(cluster.brokers, redisTopics)).every((p) => p.isr.length === 3) ? true : undefined), 300_000);
  const outage = Date.now() - killedAt;
  now.phase = 'back';
  await workload;

  // what the projector said while the broker was away (pino: 40 warn, 50 error)
  const said = new Map<string, number>();
  for (const line of started.output.join('').slice(outputBefore).split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; code?: string; error?: unknown };
      const key = `${entry.level} ${entry.msg}${entry.code ? ` (${entry.code})` : ''}`;
      if ((entry.level ?? 0) >= 40) said.set(key, (said.get(key) ?? 0) + 1);
    } catch {
      // not a JSON line
    }
  }
  t.diagnostic(`fenced after ${fencedAfter} ms; \`stack up kafka-cluster\` took ${upTook} ms; back in every ISR ${outage} ms after the kill; connector task during the outage: ${taskDuring}; ${appliedDuringOutage} records applied after the fencing, before the restart; ${rounds} rounds of 500 statements`);
  t.diagnostic(`projector warnings and errors after the kill: ${JSON.stringify(Object.fromEntries(said))}`);

  // everything committed is in Kafka, then in the generation
  const lsn = await currentLsn();
  await waitFor('this connector to publish every committed change', async () => ((await slotConfirmed(lsn)) ? true : undefined), 300_000);
  await caughtUp(redis, generation, kafka, db, 300_000);
  const keys = await assertMatchesPostgres(redis, generation, db);
  t.diagnostic(`${keys.length} Redis keys equal PostgreSQL`);

  assert.equal(projector, started);
  assert.equal(started.child.pid, projectorPid);
  assert.ok(started.child.exitCode === null && started.child.signalCode === null, 'the same projector process rode out the broker outage');
  const status = await waitFor('the connector and its task to run', connectorRunning, 60_000);
  assert.equal(status.connector.state, 'RUNNING');
  assert.equal(status.tasks[0]?.state, 'RUNNING');
});
