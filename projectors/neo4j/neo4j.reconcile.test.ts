// `scripts/nova projector reconcile neo4j` as an SRE runs it, against the real servers: a
// generation of this file's own, kept fresh by the real projector process, holds this file's
// users as PostgreSQL does (a follow moved to another pair and changed again included); then
// the graph is made to differ from PostgreSQL on purpose in each of the three ways (a FOLLOWS
// PostgreSQL does not have, one gone missing, a user's property changed) and reconcile, after
// re-checking once caught up, names those keys and no other key of these users.
//
// Fast: the generation starts at the topics' ends instead of filling from the earliest
// offset (tens of seconds), so it lacks everything written before, and reconcile reports all
// of that too. Other writers share the tables as well, so the report is searched for this
// file's keys, never counted whole.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { Drift } from '../runtime/sink.ts';
import { outputTail, type ProjectorProcess, runNova, startProjector } from '../runtime/testing/projector-process.ts';
import { connectNeo4j, createNeo4jSink, neo4jProjector, userLabel } from './index.ts';
import { endOffsets } from './test/harness.ts';
import { ownGeneration } from './test/own-generation.ts';
import { readerView, differences, expectedFromPostgres, summary, usersScope } from './test/oracle.ts';

const { name } = neo4jProjector;
const generation = randomInt(5_000_000, 6_000_000);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const driver = connectNeo4j(process.env);
const admin = new Kafka({ clientId: 'nova-neo4j-reconcile-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
let projector: ProjectorProcess | undefined;
let users: number[] = [];

const logTail = () => outputTail(projector, 8, 300);

const nova = (...args: string[]) => runNova(args, 120_000);


/** The generation starts where the topics end now: its projector reads only what is written from here on. */
async function startAtTopicEnds(): Promise<void> {
  const sink = await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: name });
  try {
    const checkpoints = [...(await endOffsets(admin))].map(([key, end]) => {
      const [topic, partition] = key.split(':') as [string, string];
      return { topic, partition: Number(partition), nextOffset: String(end), commitOrder: null };
    });
    await sink.apply([], checkpoints, async () => {});
  } finally {
    await sink.close();
  }
}

const { run } = ownGeneration({
  generation,
  db,
  admin,
  driver,
  projector: () => projector,
  cleanup: async () => {
    if (users.length === 0) return;
    await db.query('DELETE FROM follows WHERE follower_id = ANY($1::bigint[]) OR followee_id = ANY($1::bigint[])', [users]);
    await db.query('DELETE FROM users WHERE id = ANY($1::bigint[])', [users]);
  },
});

test('reconcile --generation N --json names a planted FOLLOWS, a missing one and a changed user, exit 1', { timeout: 120_000 }, async (t) => {
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail()}`));
  await startAtTopicEnds();
  projector = startProjector(name, ['--generation', String(generation), '--shadow']);
  const tag = `reconcile-${randomUUID().slice(0, 8)}`;
  const rows = (await db.query(`INSERT INTO users (username, bio) SELECT $1 || '-' || n, 'as PostgreSQL says' FROM unnest($2::text[]) AS n RETURNING id`, [tag, ['a', 'b', 'c', 'd']])).rows;
  users = rows.map((r) => Number(r.id));
  const [a, b, c, d] = users as [number, number, number, number];
  await db.query(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)`, [a, c]);
  // moved to another pair and changed again straight away: the pair it left must not keep it
  const [moved] = (await db.query(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) RETURNING id`, [b, d])).rows;
  await db.query(`UPDATE follows SET followee_id = $1 WHERE id = $2`, [c, moved.id]);
  await db.query(`UPDATE follows SET status = 'muted' WHERE id = $1`, [moved.id]);
  await db.query(`UPDATE follows SET status = 'active' WHERE id = $1`, [moved.id]);
  const ours = [a, b, c, d];
  const scope = usersScope(ours);
  let found: Drift[] = [];
  await waitFor('the projector to bring these users into the generation', async () => {
    found = differences(await expectedFromPostgres(db, scope), await readerView(driver, generation, scope));
    return found.length === 0 ? true : undefined;
  }, 60_000).catch((error: Error) => assert.fail(`${error.message}: ${summary(found)}\n${logTail()}`));

  const L = userLabel(generation);
  const ids = { a: neo4j.int(a), b: neo4j.int(b), c: neo4j.int(c) };
  await run(`MATCH (a:${L} {id: $a}), (b:${L} {id: $b}) CREATE (a)-[:FOLLOWS {created_at: 0, version: 0, commit_order: 0}]->(b)`, ids);
  await run(`MATCH (:${L} {id: $a})-[r:FOLLOWS]->(:${L} {id: $c}) DELETE r`, ids);
  await run(`MATCH (b:${L} {id: $b}) SET b.bio = 'not what PostgreSQL says'`, ids);

  const started = Date.now();
  const reconciled = await nova('projector', 'reconcile', name, '--generation', String(generation), '--json');
  t.diagnostic(`reconcile took ${Date.now() - started} ms`);
  assert.equal(reconciled.code, 1, reconciled.stdout.slice(0, 2_000) + reconciled.stderr);
  const report = JSON.parse(reconciled.stdout) as { projector: string; generation: number; drift: Drift[]; rechecks: number };
  assert.deepEqual([report.projector, report.generation], [name, generation]);
  assert.ok(report.rechecks > 0, 'drift is reported only after re-checking once caught up');
  const detail = (view: string, key: string) => report.drift.find((x) => x.view === view && x.key === key)?.detail ?? '(not reported)';
  assert.match(detail('FOLLOWS', `${a}->${b}`), /^not in PostgreSQL: \{"created_at":0\}$/);
  assert.match(detail('FOLLOWS', `${a}->${c}`), /^missing: PostgreSQL has \{"created_at":\d+\}$/);
  assert.match(detail('User', String(b)), /^differs in bio: expected .*"as PostgreSQL says".*, found .*"not what PostgreSQL says"/);
  const mine = report.drift.filter((x) => x.key.split('->').some((id) => ours.includes(Number(id))));
  assert.equal(mine.length, 3, `no other key of these users drifts: ${JSON.stringify(mine)}`);
});
