import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConnector } from '../../connectors/register.ts';
import { topicPlan } from '../../connectors/topic-plan.ts';
import { env } from '../../scripts/stack.d/test/stack.ts';
import { checkContract } from './contract.ts';
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

test('every writer schema Debezium registered resolves to our reader schemas', async () => {
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
