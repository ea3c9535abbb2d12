import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConnector } from '../../connectors/register.ts';
import { topicPlan } from '../../connectors/topic-plan.ts';
import pg from 'pg';
import { insertOneRowEach } from '../../projectors/runtime/testing/every-table.ts';
import { env, waitFor } from '../../scripts/stack.d/test/stack.ts';
import { checkContract } from './contract.ts';
import { subjectVersions } from './registry-client.ts';
import { generateTypes } from './generate-types.ts';
import { schemasDir } from './reader-schemas.ts';

const topics = topicPlan((await loadConnector()).config).map((t) => t.topic);
const scratch = mkdtempSync(join(tmpdir(), 'nova-schemas-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('types.ts is what the reader schemas generate', () => {
  assert.equal(readFileSync(join(schemasDir, 'types.ts'), 'utf8'), generateTypes(), 'run `scripts/nova schemas types`');
});

test('every projected topic has a reader schema for its key and value', () => {
  for (const topic of topics) {
    for (const part of ['key', 'value']) assert.doesNotThrow(() => readFileSync(join(schemasDir, `${topic}.${part}.avsc`)), `${topic} ${part}`);
  }
});

test('every writer schema Debezium registered resolves to our reader schemas, and every subject has one', { timeout: 120_000 }, async () => {
  // a subject with no version would pass vacuously: a row in every table makes Debezium register each
  const db = new pg.Client({ connectionString: env('DATABASE_URL') });
  await db.connect();
  try {
    await insertOneRowEach(db, `contract-${Date.now()}`);
  } finally {
    await db.end();
  }
  const subjects = topics.flatMap((topic) => [`${topic}-key`, `${topic}-value`]);
  await waitFor('a registered writer schema for every subject', async () => {
    const counts = await Promise.all(subjects.map((subject) => subjectVersions(env('SCHEMA_REGISTRY_URL'), subject).then((v) => v.length)));
    return counts.every((n) => n > 0) ? true : undefined;
  }, 90_000);
  assert.deepEqual(await checkContract({ registryUrl: env('SCHEMA_REGISTRY_URL'), topics }), []);
});

test('a reader schema the writers cannot satisfy is reported with its topic and field', async () => {
  cpSync(schemasDir, scratch, { recursive: true, filter: (f) => !f.endsWith('.ts') });
  const file = join(scratch, 'nova.social.users.value.avsc');
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  const row = schema.fields.find((f: { name: string }) => f.name === 'before').type.find((t: unknown) => typeof t === 'object');
  row.fields.find((f: { name: string }) => f.name === 'username').type = 'int';
  writeFileSync(file, JSON.stringify(schema));
  const problems = await checkContract({ registryUrl: env('SCHEMA_REGISTRY_URL'), topics: ['nova.social.users'], dir: scratch });
  assert.ok(problems.length > 0);
  for (const p of problems) {
    assert.equal(p.topic, 'nova.social.users');
    assert.equal(p.part, 'value');
    assert.match(p.problem, /before\.username/);
  }
});
