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
import { execFile } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import neo4j from 'neo4j-driver';
import pg from 'pg';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { Drift } from '../runtime/sink.ts';
import { kill9, startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { connectNeo4j, createNeo4jSink, dropGeneration, neo4jProjector, userLabel } from './index.ts';
import { endOffsets } from './test/harness.ts';
import { actualFromNeo4j, differences, expectedFromPostgres, summary, usersScope } from './test/oracle.ts';

const novaCli = fileURLToPath(new URL('../../scripts/nova', import.meta.url));
const { name } = neo4jProjector;
const generation = randomInt(5_000_000, 6_000_000);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const driver = connectNeo4j(process.env);
const admin = new Kafka({ clientId: 'nova-neo4j-reconcile-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
let projector: ProjectorProcess | undefined;
let users: number[] = [];

const logTail = () => projector?.output.join('').split('\n').filter(Boolean).slice(-8).map((l) => l.slice(0, 300)).join('\n') ?? '';

type CliResult = { code: number; stdout: string; stderr: string };

function nova(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(novaCli, args, { env: process.env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** SIGTERM: the projector finishes its batch and leaves its consumer group; kill -9 after 10 s. */
async function stop(running: ProjectorProcess): Promise<void> {
  if (running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => void kill9(running), 10_000);
  await running.exited;
  clearTimeout(timer);
}

/** The generation starts where the topics end now: its projector reads only what is written from here on. */
async function startAtTopicEnds(): Promise<void> {
  const sink = await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: name });
  try {
    const checkpoints = [...(await endOffsets(admin))].map(([key, end]) => {
      const [topic, partition] = key.split(':') as [string, string];
      return { topic, partition: Number(partition), nextOffset: String(end), lsn: null };
    });
    await sink.apply([], checkpoints, async () => {});
  } finally {
    await sink.close();
  }
}

async function run(cypher: string, params: Record<string, unknown> = {}) {
  const session = driver.session();
  try {
    return (await session.run(cypher, params)).records;
  } finally {
    await session.close();
  }
}

before(async () => {
  await Promise.all([db.connect(), admin.connect()]);
  const [taken] = await run('MATCH (g:NovaGeneration {generation: $g}) RETURN g', { g: neo4j.int(generation) });
  assert.equal(taken, undefined, `generation ${generation} is in use`);
});

after(async () => {
  if (projector) await stop(projector);
  // the projector made it live if nothing was: it must not be, to be dropped
  await run('MATCH (g:NovaGeneration {generation: $g}) SET g.live = false', { g: neo4j.int(generation) });
  await dropGeneration(driver, generation);
  const group = `nova-projector-${name}-g${generation}`;
  // a stopped member has left its group; a kill -9ed one holds it until its session expires (10 s)
  await waitFor('the test consumer group to be deleted', async () => {
    if ((await admin.listGroups()).groups.some((g) => g.groupId === group)) await admin.deleteGroups([group]);
    return true;
  }, 30_000).catch(() => {});
  if (users.length > 0) {
    await db.query('DELETE FROM follows WHERE follower_id = ANY($1::bigint[]) OR followee_id = ANY($1::bigint[])', [users]);
    await db.query('DELETE FROM users WHERE id = ANY($1::bigint[])', [users]);
  }
  await Promise.all([db.end(), admin.disconnect(), driver.close()]);
});

test('reconcile --generation N --json names a planted FOLLOWS, a missing one and a changed user, exit 1', { timeout: 120_000 }, async (t) => {
  t.after(() => t.diagnostic(`generation ${generation}; last projector output:\n${logTail()}`));
  await startAtTopicEnds();
  projector = startProjector(name, ['--generation', String(generation)]);
  const tag = `reconcile-${randomUUID().slice(0, 8)}`;
  const rows = (await db.query(`INSERT INTO users (username, bio) SELECT $1 || '-' || n, 'as PostgreSQL says' FROM unnest($2::text[]) AS n RETURNING id`, [tag, ['a', 'b', 'c', 'd', 'writer']])).rows;
  users = rows.map((r) => Number(r.id));
  const [a, b, c, d, writer] = users as [number, number, number, number, number];
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
    found = differences(await expectedFromPostgres(db, scope), await actualFromNeo4j(driver, generation, scope));
    return found.length === 0 ? true : undefined;
  }, 60_000).catch((error: Error) => assert.fail(`${error.message}: ${summary(found)}\n${logTail()}`));

  const L = userLabel(generation);
  const ids = { a: neo4j.int(a), b: neo4j.int(b), c: neo4j.int(c) };
  await run(`MATCH (a:${L} {id: $a}), (b:${L} {id: $b}) CREATE (a)-[:FOLLOWS {created_at: 0, lsn: 0}]->(b)`, ids);
  await run(`MATCH (:${L} {id: $a})-[r:FOLLOWS]->(:${L} {id: $c}) DELETE r`, ids);
  await run(`MATCH (b:${L} {id: $b}) SET b.bio = 'not what PostgreSQL says'`, ids);

  // The slot confirms an LSN only from a change it received: with the tables idle, that is the
  // heartbeat's every 10 s, and each of reconcile's catch-ups would wait for it. A writer keeps
  // changes flowing, as in production (its own key may be reported while in flight).
  let writing = true;
  const writes = (async () => {
    for (let i = 0; writing; i += 1) {
      await db.query(`UPDATE users SET bio = $1 WHERE id = $2`, [`write ${i}`, writer]);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const started = Date.now();
  const reconciled = await nova('projector', 'reconcile', name, '--generation', String(generation), '--json').finally(() => (writing = false));
  await writes;
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
