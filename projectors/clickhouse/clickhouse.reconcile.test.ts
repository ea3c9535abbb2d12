// `scripts/nova projector reconcile clickhouse` against the real servers: a generation of its own,
// filled from the earliest offset by the real projector process and caught up, reconciles clean
// with all of user_interactions; then three row versions written into its table behind the
// projector's back (a changed value, a deleted row brought back, a live row hidden) are the
// drift it reports, and only then. The projector keeps running throughout, so rows other tests
// write meanwhile settle in the re-checks. Its tables, checkpoints and consumer group are
// removed afterwards.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Drift } from '../runtime/sink.ts';
import { caughtUp } from '../runtime/testing/caught-up.ts';
import { runNova, startProjector, type ProjectorProcess } from '../runtime/testing/projector-process.ts';
import { clickhouseClient, clickhouseProjector, compareClickhouseWithPostgres, generationTable, sqlIdentifier, userBehaviorEvents } from './index.ts';
import { ownGeneration } from './test/own-generation.ts';

const { name, topics } = clickhouseProjector;
const generation = randomInt(1_000_000, 1_000_000_000);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const ch = clickhouseClient(process.env);
const admin = new Kafka({ clientId: 'nova-clickhouse-reconcile-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
let projector: ProjectorProcess | undefined;

type Report = { projector: string; generation: number; drift: Drift[]; rechecks: number };

async function reconcile(): Promise<{ code: number; report: Report; stderr: string }> {
  const { code, stdout, stderr } = await runNova(['projector', 'reconcile', name, '--generation', String(generation), '--json']);
  try {
    return { code, report: JSON.parse(stdout) as Report, stderr };
  } catch {
    throw new Error(`reconcile exited ${code} without a JSON report:\n${stdout}\n${stderr}`);
  }
}

const own = ownGeneration({ generation, db, admin, ch, projector: () => projector });

test('reconcile: no drift once caught up; then exactly the row versions planted behind the projector', { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const phases: string[] = [];
  const phase = (what: string) => phases.push(`${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.after(() => t.diagnostic(`generation ${generation}; ${phases.join(', ')}; last projector output:\n${projector?.output.join('').split('\n').slice(-5).join('\n')}`));
  projector = startProjector(name, ['--generation', String(generation), '--shadow', '--max-batch', '2000']);
  const [user] = (await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`ch-reconcile-${randomUUID().slice(0, 8)}`])).rows;
  const insert = async (value: number) =>
    String((await db.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value, created_at)
      VALUES ($1, 'post', 7, 'like', $2, '2024-05-01T12:00:00Z') RETURNING id`, [user.id, value])).rows[0].id);
  const [changed, revived, hidden, untouched] = [await insert(0.5), await insert(1), await insert(2), await insert(3)];
  await db.query(`UPDATE user_interactions SET interaction_value = 0.75 WHERE id = $1`, [untouched]);
  await db.query(`DELETE FROM user_interactions WHERE id = $1`, [revived]);
  await caughtUp({ db, admin, store: own.store, topics, log: () => projector?.output.join('').slice(-2_000) ?? '', timeoutMs: 60_000 });

  phase('caught up');
  const clean = await reconcile();
  phase(`clean after ${clean.report.rechecks} re-checks`);
  assert.equal(clean.code, 0, `expected no drift: ${JSON.stringify(clean.report.drift.slice(0, 5))} ${clean.stderr}`);
  assert.deepEqual(clean.report.drift, []);

  // versions newer than any change can carry: the projector never overwrites them
  const newest = '18446744073709551615';
  const row = (id: string, value: number, deleted: 0 | 1) => ({ id, user_id: user.id, target_type: 'post', target_id: 7, interaction_type: 'like', interaction_value: value, created_at: 1_714_564_800, version: newest, commit_order: newest, is_deleted: deleted });
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
