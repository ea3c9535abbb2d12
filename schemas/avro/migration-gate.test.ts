// `schemas check --migration` against the real database: the migration runs and is rolled back,
// and what it would make Debezium publish is resolved against the reader schemas.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadConnector } from '../../connectors/register.ts';
import { topicPlan } from '../../connectors/topic-plan.ts';
import { runNova } from '../../projectors/runtime/testing/projector-process.ts';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { checkMigration } from './migration-gate.ts';

const topics = topicPlan((await loadConnector()).config);
const db = new pg.Client({ connectionString: env('DATABASE_URL') });
const scratch = mkdtempSync(join(tmpdir(), 'nova-gate-'));
before(() => db.connect());
after(async () => {
  await db.end();
  rmSync(scratch, { recursive: true, force: true });
});

const check = (migrationSql: string) => checkMigration({ adminUrl: env('NOVA_PG_ADMIN_URL'), file: 'scratch.sql', migrationSql, topics });
const postsColumns = async () => (await db.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'posts' ORDER BY ordinal_position")).rows.map((r) => r.column_name);

test('the schema as it is passes its own gate', async () => {
  assert.deepEqual(await check('SELECT 1'), []);
});

test('a renamed column is reported by topic and field; the database Debezium reads is never touched', async () => {
  const columnsBefore = await postsColumns();
  const problems = await check('ALTER TABLE posts RENAME COLUMN text TO body');
  assert.deepEqual(problems.map((p) => `${p.topic} ${p.part}`), ['nova.social.posts value']);
  assert.match(problems[0]?.problem ?? '', /field before\.text is missing from the writer schema/);
  assert.deepEqual(await postsColumns(), columnsBefore);
});

test('an added column passes; a dropped, retyped or newly nullable one the readers need does not', async () => {
  assert.deepEqual(await check('ALTER TABLE posts ADD COLUMN lang TEXT'), []);
  assert.match((await check('ALTER TABLE users DROP COLUMN bio'))[0]?.problem ?? '', /before\.bio/);
  assert.match((await check('ALTER TABLE user_interactions ALTER COLUMN target_id TYPE TEXT'))[0]?.problem ?? '', /target_id/);
  await assert.rejects(check('ALTER TABLE follows ALTER COLUMN follower_id TYPE TEXT'), /the migration fails on the schema Nova's migrations make: .*follows_follower_id_fkey/);
  const nullable = await check('ALTER TABLE messages ALTER COLUMN content DROP NOT NULL');
  assert.deepEqual(nullable.map((p) => p.topic), ['nova.message.messages']);
  assert.match(nullable[0]?.problem ?? '', /content/);
});

test('a file that commits itself changes only the scratch database', async () => {
  const columnsBefore = await postsColumns();
  assert.equal((await check('BEGIN; ALTER TABLE posts RENAME COLUMN text TO body; COMMIT;')).length, 1);
  assert.deepEqual(await postsColumns(), columnsBefore);
});

test('a primary key change shows in the key schema', async () => {
  const problems = await check('ALTER TABLE posts RENAME COLUMN id TO post_id');
  assert.ok(problems.some((p) => p.topic === 'nova.social.posts' && p.part === 'key' && /id/.test(p.problem)), JSON.stringify(problems));
});

test('the CLI exits 1 naming the problem, 0 for a safe migration', { timeout: 60_000 }, async () => {
  const [unsafe, safe] = [join(scratch, 'rename.sql'), join(scratch, 'add.sql')];
  writeFileSync(unsafe, 'ALTER TABLE posts RENAME COLUMN text TO body;');
  writeFileSync(safe, 'ALTER TABLE posts ADD COLUMN lang TEXT;');
  const refused = await runNova(['schemas', 'check', '--migration', unsafe]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stdout, /^nova\.social\.posts value: field before\.text is missing/m);
  const passed = await runNova(['schemas', 'check', '--migration', safe]);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
});
