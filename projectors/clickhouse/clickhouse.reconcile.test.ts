// `scripts/nova projector reconcile clickhouse` against the real servers: a generation of its own,
// filled from the earliest offset by the real projector process and caught up, reconciles clean
// with all of user_interactions; then three row versions written into its table behind the
// projector's back (a changed value, a deleted row brought back, a live row hidden) are the
// drift it reports, and only then. The projector keeps running throughout, so rows other tests
// write meanwhile settle in the re-checks. Its tables, checkpoints and consumer group are
// removed afterwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { CheckpointStore, Drift, Sink } from '../runtime/sink.ts';
import { startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { clearCheckpoints, clickhouseClient, clickhouseProjector, compareClickhouseWithPostgres, dropGeneration, generationTable, sqlIdentifier, userBehaviorEvents, type ClickhouseOp } from './index.ts';
import { caughtUp, stop } from './test/harness.ts';

const novaCli = fileURLToPath(new URL('../../scripts/nova', import.meta.url));
const { name, topics } = clickhouseProjector;
const generation = randomInt(1_000_000, 1_000_000_000);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const ch = clickhouseClient(process.env);
const admin = new Kafka({ clientId: 'nova-clickhouse-reconcile-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
let store: Sink<ClickhouseOp> & CheckpointStore;
let projector: ProjectorProcess | undefined;

type Report = { projector: string; generation: number; drift: Drift[]; rechecks: number };

function reconcile(): Promise<{ code: number; report: Report; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(novaCli, ['projector', 'reconcile', name, '--generation', String(generation), '--json'], { env: process.env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      try {
        resolve({ code, report: JSON.parse(stdout) as Report, stderr });
      } catch {
        reject(new Error(`reconcile exited ${code} without a JSON report:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/**
 * Debezium confirms a WAL position (what every catch-up waits for) once a change after it
 * arrives; while the tables are idle that is its heartbeat, every 10 s, and reconcile waits for
 * one per re-check. A change to this test's own user every 250 ms makes each wait about a second.
 */
function nudgeDebezium(userId: string): () => void {
  let beats = 0;
  const timer = setInterval(() => void db.query(`UPDATE users SET bio = $2 WHERE id = $1`, [userId, `beat ${++beats}`]).catch(() => {}), 250);
  return () => clearInterval(timer);
}

before(async () => {
  await Promise.all([db.connect(), admin.connect()]);
  store = await clickhouseProjector.createSink({ generation, env: process.env });
  assert.deepEqual(await store.load(), [], `generation ${generation} is new`);
});

after(async () => {
  if (projector) await stop(projector);
  await dropGeneration(ch, generation);
  await clearCheckpoints(ch, { projector: name, generation });
  await store.close();
  await admin.deleteGroups([`nova-projector-${name}-g${generation}`]).catch(() => {}); // harmless if it stays: only this generation uses it
  await Promise.all([db.end(), admin.disconnect(), ch.close()]);
});

test('reconcile: no drift once caught up; then exactly the row versions planted behind the projector', { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const phases: string[] = [];
  const phase = (what: string) => phases.push(`${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.after(() => t.diagnostic(`generation ${generation}; ${phases.join(', ')}; last projector output:\n${projector?.output.join('').split('\n').slice(-5).join('\n')}`));
  projector = startProjector(name, ['--generation', String(generation), '--max-batch', '2000']);
  const [user] = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`ch-reconcile-${randomUUID().slice(0, 8)}`])).rows;
  const stopNudging = nudgeDebezium(user.id);
  t.after(stopNudging);
  const insert = async (value: number) =>
    String((await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value, created_at)
      VALUES ($1, 'post', 7, 'like', $2, '2024-05-01T12:00:00Z') RETURNING id`, [user.id, value])).rows[0].id);
  const [changed, revived, hidden, untouched] = [await insert(0.5), await insert(1), await insert(2), await insert(3)];
  await db.query(`UPDATE user_interactions SET interaction_value = 0.75 WHERE id = $1`, [untouched]);
  await db.query(`DELETE FROM user_interactions WHERE id = $1`, [revived]);
  await caughtUp({ db, admin, store, topics, log: () => projector?.output.join('').slice(-2_000) ?? '', timeoutMs: 60_000 });

  phase('caught up');
  const clean = await reconcile();
  phase(`clean after ${clean.report.rechecks} re-checks`);
  assert.equal(clean.code, 0, `expected no drift: ${JSON.stringify(clean.report.drift.slice(0, 5))} ${clean.stderr}`);
  assert.deepEqual(clean.report.drift, []);

  // versions newer than any change can carry: the projector never overwrites them
  const newest = '18446744073709551615';
  const row = (id: string, value: number, deleted: 0 | 1) => ({ id, user_id: user.id, target_type: 'post', target_id: 7, interaction_type: 'like', interaction_value: value, created_at: 1_714_564_800, lsn: newest, is_deleted: deleted });
  await ch.insert({ table: sqlIdentifier(generationTable(userBehaviorEvents, generation)), format: 'JSONEachRow', values: [row(changed, 0.25, 0), row(revived, 1, 0), row(hidden, 2, 1)] });

  const drifted = await reconcile();
  phase(`drift after ${drifted.report.rechecks} re-checks`);
  assert.equal(drifted.code, 1, drifted.stderr);
  assert.ok(drifted.report.rechecks > 0, 'drift is reported only after re-checking once caught up');
  const ours = new Set([changed, revived, hidden, untouched]);
  const details = drifted.report.drift.filter((d) => ours.has(d.key)).map((d) => [d.view, d.key, d.detail]);
  const fields = `user_id ${user.id}, target_type "post", target_id 7, interaction_type "like"`;
  assert.deepEqual(details.sort((a, b) => Number(a[1]) - Number(b[1])), [
    [userBehaviorEvents, changed, 'differs in interaction_value: expected 0.5, found 0.25'],
    [userBehaviorEvents, revived, `not in PostgreSQL: found ${fields}, interaction_value 1, created_at 2024-05-01T12:00:00Z`],
    [userBehaviorEvents, hidden, `missing: PostgreSQL has ${fields}, interaction_value 2, created_at 2024-05-01T12:00:00Z`],
  ]);
});

test('compareWithPostgres refuses a generation without tables, and compares only the keys asked for', async () => {
  let missing = randomInt(1_000_000, 1_000_000_000);
  while (missing === generation) missing = randomInt(1_000_000, 1_000_000_000);
  await assert.rejects(compareClickhouseWithPostgres({ generation: missing, env: process.env }), /generation \d+ has no tables/);
  await assert.rejects(compareClickhouseWithPostgres({ generation: -1, env: process.env }), /not an unsigned 64-bit integer/);
  await assert.rejects(compareClickhouseWithPostgres({ generation, env: process.env, only: new Map([[userBehaviorEvents, new Set(['1 OR 1=1'])]]) }), /is not a user_interactions id/);
  assert.deepEqual(await compareClickhouseWithPostgres({ generation, env: process.env, only: new Map() }), []);
  // an id nobody has: nothing to compare, so nothing differs
  assert.deepEqual(await compareClickhouseWithPostgres({ generation, env: process.env, only: new Map([[userBehaviorEvents, new Set(['999999999999999'])]]) }), []);
});
