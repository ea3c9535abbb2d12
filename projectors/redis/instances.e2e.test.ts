// Several instances of the Redis projector sharing its partitions (one consumer group per
// projector and generation), against the real stack: three started, each holding some of the
// partitions; one kill -9ed mid-run while a workload writes; the other two take its partitions
// from the checkpoints it stored (reloaded on assignment, not what they read before), and the
// generation converges to PostgreSQL exactly, which the reconcile tool confirms. Then a
// rebalance while the instances' batches are held in Redis (CLIENT PAUSE WRITE): a third
// instance joins, the held scripts land after the partitions moved, and no checkpoint ever
// goes back while the new holders write.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';
import { logLines } from '../runtime/testing/observe.ts';
import { kill9, outputTail, runNova, startProjector, stopProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { masters } from './client.ts';
import { redisTopics } from './mapping/index.ts';
import { sinkConnectionName } from './sink.ts';
import { assertMatchesPostgres, caughtUp, storedCheckpoints } from './test/harness.ts';
import { claimGeneration } from './test/own-generation.ts';
import { runWorkload } from './test/workload.ts';

const own = await claimGeneration(process.env);
const { redis, generation } = own;
const group = projectorGroup('redis', generation);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const kafka = new Kafka({ clientId: 'nova-redis-instances-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const instances: ProjectorProcess[] = [];
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

before(async () => {
  await db.connect();
  await admin.connect();
});
after(async () => {
  for (const instance of instances) await stopProjector(instance).catch(() => undefined);
  await own.release();
  await admin.disconnect();
  await db.end();
});

/** The group's members and the partitions each holds (`topic:partition`), once it is stable with `count` members. */
async function stableWith(count: number): Promise<Map<string, string[]>> {
  return waitFor(`the group to be stable with ${count} members, each holding partitions`, async () => {
    const [described] = (await admin.describeGroups([group])).groups;
    if (described?.state !== 'Stable' || described.members.length !== count) return undefined;
    const held = new Map<string, string[]>();
    for (const member of described.members) {
      const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
      const partitions = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((p) => `${topic}:${p}`)).filter((k) => redisTopics.includes(k.slice(0, k.lastIndexOf(':'))));
      if (partitions.length === 0) return undefined;
      held.set(member.memberId, partitions);
    }
    return held;
  }, 120_000);
}

/** An instance's assignments, oldest first: when (its log line's time) and the partitions each names, with where each resumed ("<topic>[p]@offset"). */
const assignmentsAt = (instance: ProjectorProcess) =>
  logLines(instance, "partitions assigned: each resumes from the store's checkpoint").map((line) => ({ at: Number(line.time), partitions: (line.partitions ?? []) as string[] }));
const assignments = (instance: ProjectorProcess) => assignmentsAt(instance).map(({ partitions }) => partitions);

test('three instances share the partitions; one kill -9ed mid-run, the others take its partitions where it left them, and the views equal PostgreSQL', { timeout: 600_000 }, async (t) => {
  t.after(() => instances.forEach((instance, i) => t.diagnostic(`instance ${i} output:\n${outputTail(instance, 6)}`)));
  const args = ['--generation', String(generation), '--shadow', '--max-batch', '200', '--metrics-port', '0'];
  for (let i = 0; i < 3; i++) instances.push(startProjector('redis', args));
  const total = (await admin.fetchTopicMetadata({ topics: redisTopics })).topics.reduce((n, topic) => n + topic.partitions.length, 0);
  const shared = await stableWith(3);
  assert.equal([...shared.values()].flat().length, total, 'every partition is held, by exactly one instance');

  const workload = runWorkload(db, { statements: 6_000, tag: `instances-${randomUUID().slice(0, 8)}` });
  // killed while it works: once its checkpoints have moved since the workload began
  const victim = instances[0] as ProjectorProcess;
  const before = await storedCheckpoints(redis, generation);
  await waitFor('the generation\'s checkpoints to move', async () => {
    const now = await storedCheckpoints(redis, generation);
    return [...now].some(([key, next]) => next > (before.get(key) ?? 0n)) ? true : undefined;
  }, 120_000);
  const killedAt = Date.now();
  await kill9(victim);
  // what it stored, once the last script it sent can no longer land
  let atRest = await storedCheckpoints(redis, generation);
  for (;;) {
    await pause(250);
    const again = await storedCheckpoints(redis, generation);
    if ([...again].every(([key, next]) => atRest.get(key) === next) && again.size === atRest.size) break;
    atRest = again;
  }
  const survivors = instances.slice(1);
  const retaken = await stableWith(2);
  assert.equal([...retaken.values()].flat().length, total, 'the two survivors hold every partition');
  await workload;
  await caughtUp(redis, generation, kafka, db, 300_000);
  await assertMatchesPostgres(redis, generation, db);

  // the victim's partitions: in the survivors' first assignment after the kill (by the log's
  // time: their output may still be arriving), each resumed exactly where the victim's stored checkpoint stood
  const victimHeld = new Set((assignments(victim).at(-1) ?? []).map((p) => p.replace(/\[(\d+)\]@.*$/, ':$1')));
  const resumed = survivors.flatMap((instance) => assignmentsAt(instance).find(({ at }) => at > killedAt)?.partitions ?? []).map((p) => /^(.*)\[(\d+)\]@(.*)$/.exec(p) as RegExpExecArray).filter(([, topic, partition]) => victimHeld.has(`${topic}:${partition}`));
  assert.ok(resumed.length > 0, 'the survivors took the victim\'s partitions');
  for (const [line, topic, partition, offset] of resumed) {
    const stored = atRest.get(`${topic}:${partition}`);
    assert.equal(offset === 'earliest' ? undefined : BigInt(offset as string), stored, `${line}: resumed where the victim's checkpoint stood`);
  }

  const reconciled = await runNova(['projector', 'reconcile', 'redis', '--generation', String(generation)], 300_000);
  assert.equal(reconciled.code, 0, reconciled.stdout + reconciled.stderr);
  assert.match(reconciled.stdout, new RegExp(`^redis generation ${generation}: no drift`));
});

test('a rebalance while batches are held in Redis: the held writes land after the partitions moved, no checkpoint goes back, the views equal PostgreSQL', { timeout: 600_000 }, async () => {
  const args = ['--generation', String(generation), '--shadow', '--max-batch', '200', '--metrics-port', '0'];
  const live = instances.filter((instance) => instance.child.exitCode === null && instance.child.signalCode === null);
  assert.ok(live.length >= 1, 'the first test left instances running');
  const nodes = masters(redis);
  const probe = new pg.Client({ connectionString: env('DATABASE_URL') });
  await probe.connect();
  const held = new RegExp(`name=${sinkConnectionName('redis', generation)} .*flags=\\w*b\\w* .*cmd=evalsha`);
  // held for longer than the waits below together: whether the joining instance gets in must
  // not depend on when the pause runs out (it starts and joins its group on reads alone)
  await Promise.all(nodes.map((node) => node.call('CLIENT', 'PAUSE', '200000', 'WRITE')));
  try {
    await waitFor('a batch script of this generation held by the pause', async () => {
      for (const node of nodes) if (held.test(String(await node.call('CLIENT', 'LIST')))) return true;
      await probe.query(`UPDATE live_streams SET viewer_count = viewer_count + 1 WHERE id = (SELECT max(id) FROM live_streams)`);
      return undefined;
    }, 90_000);
    // a third instance joins: the partitions move while the held batches wait on Redis
    const joining = startProjector('redis', args);
    instances.push(joining);
    await waitFor('the joining instance to be assigned partitions while the batches are held', async () => (assignments(joining).some((held) => held.length > 0) ? true : undefined), 90_000);
  } finally {
    await Promise.all(nodes.map((node) => node.call('CLIENT', 'UNPAUSE')));
    await probe.end();
  }
  await stableWith(live.length + 1);
  // every stored checkpoint, sampled while the held writes land and the new holders write
  const workload = runWorkload(db, { statements: 2_000, tag: `rebalance-${randomUUID().slice(0, 8)}` });
  let last = await storedCheckpoints(redis, generation);
  const regressed: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = await storedCheckpoints(redis, generation);
      for (const [key, next] of now) if (next < (last.get(key) ?? 0n)) regressed.push(`${key}: ${last.get(key)} -> ${next}`);
      last = new Map([...last, ...now]);
      await pause(50);
    }
  })();
  await workload;
  await caughtUp(redis, generation, kafka, db, 300_000);
  sampling = false;
  await sampler;
  assert.deepEqual(regressed, [], 'no stored checkpoint ever went back');
  await assertMatchesPostgres(redis, generation, db);
});
