// The Neo4j projector end to end, as the real process, against the real servers: a generation
// of its own filled from the earliest offset while a mixed workload runs and the projector is
// kill -9ed at random moments and restarted; then the graph of the workload's users equals
// what PostgreSQL says. Also: a replay from the earliest offset into the same generation
// leaves the graph identical, a garbage record goes to the dead-letter topic while later
// records still apply, the seed's friend-of-friend query answers as PostgreSQL does, and a
// process killed where a batch would commit leaves neither its effects nor its checkpoints.
// Other writers share the tables, so comparisons are scoped to this file's users, and the
// replay check excuses only what records written meanwhile by others map to.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { deadLetterHeaders, deadLetterTopic } from '../runtime/dead-letter.ts';
import type { RawRecord } from '../runtime/decode/index.ts';
import { captureTopics, endOffsets as kafkaEndOffsets } from '../runtime/testing/kafka-capture.ts';
import { assertAppliedExactlyFrom } from '../runtime/testing/observe.ts';
import { randomKills } from '../runtime/testing/random-kills.ts';
import { kill9, outputTail, type ProjectorProcess, startCrashingProjector, startProjector, stopProjector } from '../runtime/testing/projector-process.ts';
import { connectNeo4j, neo4jProjector, userLabel } from './index.ts';
import { pendingAtCommit } from './test/crash-fixture.ts';
import { friendsOfFriendsCypher, friendsOfFriendsInPostgres } from './test/friends-of-friends.ts';
import { graphState } from './test/graph-snapshot.ts';
import { assertMatchesPostgres, caughtUp, checkpointOffsets, endOffsets, targetsBetween } from './test/harness.ts';
import { ownGeneration } from './test/own-generation.ts';
import { runGraphWorkload } from './test/workload.ts';
import { projectorGroup } from '../runtime/source/kafkajs-source.ts';

const { name } = neo4jProjector;
const generation = randomInt(100_000, 1_000_000);
const args = ['--generation', String(generation), '--shadow', '--max-batch', '1000'];
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const driver = connectNeo4j(process.env);
const kafka = new Kafka({ clientId: 'nova-neo4j-e2e', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
let projector: ProjectorProcess | undefined;
let workloadUsers: number[] = [];

const logTail = () => outputTail(projector, 8, 300);
const start = () => (projector = startProjector(name, args));
const settled = () => caughtUp({ driver, admin, db, projector: name, generation, log: logTail });
const applied = async () => [...(await checkpointOffsets(driver, name, generation)).values()].reduce((a, b) => a + b, 0n);

const { run } = ownGeneration({ generation, db, admin, driver, projector: () => projector });

test('a workload with five kill -9s at random moments: the graph of its users equals PostgreSQL', { timeout: 600_000 }, async (t) => {
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail()}`));
  const statements = 4_000;
  // one target in each fifth of the first 90% of the run (writes go on after the last)
  const fifth = (statements * 0.9) / 5;
  const killAt = Array.from({ length: 5 }, (_, i) => Math.floor(i * fifth + randomInt(100, fifth - 100)));
  start();
  const kills9 = randomKills({
    at: killAt,
    admin,
    groupId: projectorGroup(name, generation),
    topics: neo4jProjector.topics,
    async kill() {
      await kill9(projector as ProjectorProcess);
      const at = await applied();
      start();
      return at;
    },
  });
  const workload = await runGraphWorkload(db, { statements, tag: `neo4j-${randomUUID().slice(0, 8)}`, onProgress: kills9.onProgress });
  t.diagnostic(`kills: ${(await kills9.finished()).join('; ')}`);
  workloadUsers = workload.userIds;
  await settled();
  await assertMatchesPostgres(driver, db, generation, workloadUsers);
});

test('a replay from the earliest offset into the same generation leaves the graph identical', { timeout: 300_000 }, async (t) => {
  await settled();
  await kill9(projector as ProjectorProcess);
  const from = await checkpointOffsets(driver, name, generation);
  const before = await graphState(driver, generation);
  await run('MATCH (c:NovaCheckpoint {projector: $p, generation: $g}) DELETE c', { p: name, g: neo4j.int(generation) });
  start();
  await settled();
  assert.match((projector as ProjectorProcess).output.join(''), /"checkpoints":\[\]/, 'the projector resumed from no checkpoint');
  const after = await graphState(driver, generation);
  // what others wrote meanwhile may differ; nothing else may
  const meanwhile = await targetsBetween(env('KAFKA_BROKERS'), env('SCHEMA_REGISTRY_URL'), from, await endOffsets(admin));
  const excused = (key: string) => {
    const [kind, target] = key.split(' ') as [string, string];
    return kind === 'user' ? meanwhile.users.has(target) : meanwhile.pairs.has(target) || target.split('->').some((id) => meanwhile.users.has(id));
  };
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((key) => before.get(key) !== after.get(key));
  t.diagnostic(`${before.size} users and pairs; ${changed.length} changed during the replay, by ${meanwhile.users.size} users written meanwhile`);
  const unexplained = changed.filter((key) => !excused(key)).map((key) => `${key}: ${before.get(key)} -> ${after.get(key)}`);
  assert.deepEqual(unexplained, []);
  await assertMatchesPostgres(driver, db, generation, workloadUsers);
});

test('a garbage record goes to the dead-letter topic with its reason; later records still apply', { timeout: 120_000 }, async () => {
  const since = await kafkaEndOffsets(env('KAFKA_BROKERS'), [deadLetterTopic(name)]).catch(() => undefined);
  const producer = kafka.producer();
  await producer.connect();
  const junk = `not avro ${randomUUID()}`;
  const [sent] = await producer.send({ topic: 'nova.social.follows', messages: [{ key: 'not avro', value: junk, partition: 0 }] });
  await producer.disconnect();
  const [a, b] = (await db.query(`INSERT INTO users (username) VALUES ($1), ($2) RETURNING id`, [`dlq-${randomUUID().slice(0, 8)}`, `dlq-${randomUUID().slice(0, 8)}`])).rows.map((r) => Number(r.id)) as [number, number];
  await db.query(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)`, [a, b]);

  // this generation's letter: a live projector on the stack letters the same record
  const ours = (r: RawRecord) => r.value?.toString() === junk && r.headers?.[deadLetterHeaders.generation]?.toString() === String(generation);
  const [dead] = (await captureTopics({ brokers: env('KAFKA_BROKERS'), topics: [deadLetterTopic(name)], since, until: (records) => records.some(ours) })).filter(ours);
  assert.ok(dead, 'the garbage record is in the dead-letter topic');
  await waitFor('the follow written after the garbage to be in the graph', async () => {
    const found = await run(`MATCH (:${userLabel(generation)} {id: $a})-[:FOLLOWS]->(:${userLabel(generation)} {id: $b}) RETURN 1`, { a: neo4j.int(a), b: neo4j.int(b) });
    return found.length > 0 ? true : undefined;
  });
  const headers = Object.fromEntries(Object.entries(dead.headers ?? {}).map(([k, v]) => [k, String(v)]));
  assert.deepEqual(
    [headers[deadLetterHeaders.topic], headers[deadLetterHeaders.partition], headers[deadLetterHeaders.offset], headers[deadLetterHeaders.code]],
    ['nova.social.follows', '0', sent?.baseOffset, 'NOVA_D1001'],
  );
});

test("the seed's friend-of-friend query answers as PostgreSQL does", { timeout: 120_000 }, async () => {
  const tag = `fof-${randomUUID().slice(0, 8)}`;
  const names = ['me', 'a', 'b', 'c', 'x', 'y', 'z', 'w'];
  const ids = (await db.query(`INSERT INTO users (username) SELECT $1 || '-' || n FROM unnest($2::text[]) AS n RETURNING id, username`, [tag, names])).rows;
  const id = Object.fromEntries(ids.map((r) => [r.username.slice(tag.length + 1), Number(r.id)])) as Record<string, number>;
  const follows: Array<[string, string, string]> = [
    ['me', 'a', 'active'], ['me', 'b', 'active'], ['me', 'c', 'blocked'],
    ['a', 'x', 'active'], ['b', 'x', 'active'], ['a', 'y', 'active'], ['b', 'a', 'active'], ['a', 'me', 'active'],
    ['c', 'z', 'active'], ['b', 'w', 'muted'],
  ];
  for (const [from, to, status] of follows) await db.query(`INSERT INTO follows (follower_id, followee_id, status) VALUES ($1, $2, $3)`, [id[from], id[to], status]);
  const expected = await friendsOfFriendsInPostgres(db, id['me'] as number);
  assert.deepEqual(expected, [[id['x'], `${tag}-x`], [id['y'], `${tag}-y`]], 'the fixture: x through a and b, y through a');
  await settled();
  const answer = await run(friendsOfFriendsCypher(userLabel(generation)), { me: neo4j.int(id['me'] as number) });
  assert.deepEqual(answer.map((r) => [r.get('recommended.id'), r.get('recommended.username')]), expected);
});

// Neo4j has no window between effects and checkpoint: both are in the batch's one transaction.
// So the crash comes where it would commit, after both are written in it, and leaves neither.
test('killed where a batch would commit: neither its effects nor its checkpoints are in the graph; a restart converges', { timeout: 240_000 }, async (t) => {
  if (projector) await stopProjector(projector);
  const workload = await runGraphWorkload(db, { statements: 200, tag: `neo4j-crash-${randomUUID().slice(0, 8)}` });
  // nothing writes the generation now: what changes next is the crashing process's doing
  const [checkpointsBefore, graphBefore] = [await checkpointOffsets(driver, name, generation), await graphState(driver, generation)];
  const crashing = startCrashingProjector(fileURLToPath(new URL('./test/crash-fixture.ts', import.meta.url)), generation);
  t.after(() => stopProjector(crashing));
  await crashing.exited;
  assert.equal(crashing.child.signalCode, 'SIGKILL', `the crashing projector killed itself:\n${outputTail(crashing)}`);
  const line = crashing.output.join('').split('\n').find((l) => l.includes(pendingAtCommit)) ?? '{}';
  const pending = (JSON.parse(line) as Record<string, { updates: number; checkpoints: number } | undefined>)[pendingAtCommit];
  assert.ok(pending && pending.updates > 0 && pending.checkpoints > 0, `the transaction held the batch's effects and checkpoints when it died: ${line}`);
  assert.deepEqual(await checkpointOffsets(driver, name, generation), checkpointsBefore, 'no checkpoint was committed');
  assert.deepEqual(await graphState(driver, generation), graphBefore, 'no effect was committed');
  const restarted = start();
  await settled();
  await assertMatchesPostgres(driver, db, generation, workload.userIds);
  // it applied the lost batch's records, and nothing twice
  await assertAppliedExactlyFrom(restarted, checkpointsBefore, neo4jProjector.topics, env('KAFKA_BROKERS'));
});
