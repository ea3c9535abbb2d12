// The generation format marker against the real server: a generation the sink creates says
// format 2; one the previous Nova wrote (its DDL below, as it was) is refused with the repair,
// and left as it was.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, test } from 'node:test';
import { NovaError } from '../runtime/errors.ts';
import { clickhouseClient } from './client.ts';
import { sqlIdentifier, sqlString } from './escape.ts';
import { generationFormat } from './format.ts';
import { dropGeneration } from './generations.ts';
import { clickhouseProjector } from './index.ts';
import { createTableStatements, formatTable, generationTable, truncationsTable, userBehaviorEvents } from './tables.ts';

const client = clickhouseClient(process.env);
const used: number[] = [];

after(async () => {
  for (const generation of used) await dropGeneration(client, generation);
  await client.close();
});

function newGeneration() {
  const generation = randomInt(100_000_000, 1_000_000_000);
  used.push(generation);
  return generation;
}

const rows = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
const count = async (table: string) => Number((await rows<{ n: string }>(`SELECT count() AS n FROM ${sqlIdentifier(table)}`))[0]?.n);
const tableExists = async (table: string) => (await rows(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name = ${sqlString(table)}`)).length > 0;
const openSink = (generation: number) => clickhouseProjector.createSink({ generation, env: process.env, shadow: true });

/** The previous Nova's tables for a generation, as it created them. */
async function previousNovaGeneration(generation: number) {
  await client.command({
    query: `CREATE TABLE ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} (id UInt64, user_id UInt64, target_type String, target_id UInt64, interaction_type String,
      interaction_value Nullable(Float32), created_at Nullable(DateTime), lsn UInt64, is_deleted UInt8) ENGINE = ReplacingMergeTree(lsn) ORDER BY id`,
  });
  await client.command({ query: `CREATE TABLE ${sqlIdentifier(truncationsTable(userBehaviorEvents, generation))} (lsn UInt64, truncated_at DateTime) ENGINE = ReplacingMergeTree() ORDER BY lsn` });
}

const row = { id: 1, user_id: 2, target_type: 'post', target_id: 3, interaction_type: 'view', interaction_value: 1, created_at: 0, is_deleted: 0 };

async function assertRefused(generation: number, reason: RegExp) {
  await assert.rejects(openSink(generation), (error: unknown) => {
    assert.ok(error instanceof NovaError && error.kind === 'fatal', String(error));
    assert.match(error.message, new RegExp(`generation ${generation} is not of format 2`));
    assert.match(error.message, reason);
    assert.ok(error.message.includes('`scripts/nova projector rebuild clickhouse --generation M --snapshot`, then `scripts/nova projector promote clickhouse --generation M`'), error.message);
    return true;
  });
}

test(`a generation the sink creates is marked format ${generationFormat}, and opens again`, async () => {
  const generation = newGeneration();
  const sink = await openSink(generation);
  await sink.close();
  assert.deepEqual(await rows(`SELECT format FROM ${sqlIdentifier(formatTable(userBehaviorEvents, generation))}`), [{ format: generationFormat }]);
  await (await openSink(generation)).close();
});

test('a generation the previous Nova wrote is refused, naming the generation and the repair, and left as it was', async () => {
  const generation = newGeneration();
  await previousNovaGeneration(generation);
  await client.insert({ table: sqlIdentifier(generationTable(userBehaviorEvents, generation)), format: 'JSONEachRow', values: [{ ...row, lsn: 10 }] });
  await assertRefused(generation, /has the columns .*lsn UInt64/);
  assert.equal(await count(generationTable(userBehaviorEvents, generation)), 1);
  assert.equal(await tableExists(formatTable(userBehaviorEvents, generation)), false, 'not marked');
});

test('an empty generation of the previous shape is refused too: no insert of ours would fit it', async () => {
  const generation = newGeneration();
  await previousNovaGeneration(generation);
  await assertRefused(generation, /has the columns/);
});

test('tables of this shape that hold rows without the marker are refused; empty ones are claimed', async () => {
  const generation = newGeneration();
  for (const statement of createTableStatements(userBehaviorEvents, generation)) await client.command({ query: statement });
  await client.insert({ table: sqlIdentifier(truncationsTable(userBehaviorEvents, generation)), format: 'JSONEachRow', values: [{ commit_order: '5', version: '6', truncated_at: 0 }] });
  await assertRefused(generation, /truncations_v\d+ holds rows and the generation has no format 2 marker/);

  const empty = newGeneration();
  for (const statement of createTableStatements(userBehaviorEvents, empty)) await client.command({ query: statement });
  await (await openSink(empty)).close();
  assert.deepEqual(await rows(`SELECT format FROM ${sqlIdentifier(formatTable(userBehaviorEvents, empty))}`), [{ format: generationFormat }]);
});
