// The one escaping helper against the real server: hostile strings come back from a query as
// themselves, as values and as names, and a canary table survives every attempt to drop it.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { clickhouseClient } from './client.ts';
import { sqlIdentifier, sqlString, sqlUnsigned } from './escape.ts';

const client = clickhouseClient(process.env);
const canary = `escape_canary_${randomInt(1_000_000_000)}`;

const hostile: [string, string][] = [
  ['empty', ''],
  ['a single quote', "'"],
  ['two single quotes', "''"],
  ['a backslash', '\\'],
  ['an escaped quote', "\\'"],
  ['a trailing backslash', 'end\\'],
  ['SQL injection', `'; DROP TABLE ${canary}; --`],
  ['injection through a backquote', `\`; DROP TABLE ${canary}; --`],
  ['NUL inside', 'a\0b'],
  ['newlines and tabs', 'line 1\nline 2\r\n\tindented'],
  ['the other control bytes', '\b\f\v\x01\x1b\x7f'],
  ['a backslash before n, literally', '\\n is not a newline'],
  ['hex escape, literally', '\\x41'],
  ['double quotes', '"quoted" "'],
  ['backquotes', '`name`'],
  ['CJK', '你好，世界'],
  ['emoji and a ZWJ sequence', '🎉 👩‍👩‍👧'],
  ['accents', 'ÄÖÜ straße'],
  ['line and paragraph separators', '\u2028\u2029'],
  ['parameter-like text', '{param:String} ? $1 ${x}'],
  ['every hazard at once', `'"\`\\\0\n;--/* */ DROP`],
  ['long', "'\\".repeat(5_000)],
];

before(async () => {
  await client.command({ query: `CREATE TABLE ${sqlIdentifier(canary)} (x UInt8) ENGINE = Memory` });
});

after(async () => {
  await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(canary)}` });
  await client.close();
});

async function one<T>(query: string): Promise<T> {
  const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  assert.equal(rows.length, 1);
  return rows[0] as T;
}

describe('sqlString', () => {
  for (const [name, value] of hostile) {
    test(`${name}: comes back as itself`, async () => {
      const row = await one<{ value: string; bytes: string }>(`SELECT ${sqlString(value)} AS value, length(${sqlString(value)}) AS bytes`);
      assert.equal(row.value, value);
      assert.equal(Number(row.bytes), Buffer.byteLength(value, 'utf8'));
    });
  }

  test('compares equal to the same text inserted as data', async () => {
    const table = `escape_data_${randomInt(1_000_000_000)}`;
    await client.command({ query: `CREATE TABLE ${sqlIdentifier(table)} (s String) ENGINE = Memory` });
    try {
      await client.insert({ table: sqlIdentifier(table), format: 'JSONEachRow', values: hostile.map(([, s]) => ({ s })) });
      for (const [name, value] of hostile) {
        const row = await one<{ n: string }>(`SELECT count() AS n FROM ${sqlIdentifier(table)} WHERE s = ${sqlString(value)}`);
        assert.equal(Number(row.n), hostile.filter(([, s]) => s === value).length, name);
      }
    } finally {
      await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(table)}` });
    }
  });

  test('refuses a lone surrogate, which UTF-8 cannot carry', () => {
    assert.throws(() => sqlString('a\uD800b'), /lone UTF-16 surrogate/);
    assert.equal(sqlString('\uD83C\uDF89'), "'🎉'");
  });
});

describe('sqlIdentifier', () => {
  for (const [name, value] of hostile.filter(([, v]) => v !== '' && !v.includes('\0'))) {
    test(`${name}: names a column as itself`, async () => {
      const row = await one<Record<string, number>>(`SELECT 1 AS ${sqlIdentifier(value)}`);
      assert.deepEqual(Object.keys(row), [value]);
    });
  }

  test('names a table as itself: created, found, written, read and dropped by that name', async () => {
    const table = `it's "a" \`table\` 表; DROP TABLE ${canary} ${randomInt(1_000_000_000)}`;
    await client.command({ query: `CREATE TABLE ${sqlIdentifier(table)} (${sqlIdentifier('odd column; --')} String) ENGINE = Memory` });
    try {
      const found = await one<{ name: string }>(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name = ${sqlString(table)}`);
      assert.equal(found.name, table);
      await client.insert({ table: sqlIdentifier(table), format: 'JSONEachRow', values: [{ 'odd column; --': 'x' }] });
      assert.deepEqual(await one(`SELECT * FROM ${sqlIdentifier(table)}`), { 'odd column; --': 'x' });
    } finally {
      await client.command({ query: `DROP TABLE IF EXISTS ${sqlIdentifier(table)}` });
    }
  });
});

describe('sqlUnsigned', () => {
  test('round-trips 0, 2^53 - 1 and 2^64 - 1', async () => {
    for (const value of [0, Number.MAX_SAFE_INTEGER, 2n ** 64n - 1n]) {
      const row = await one<{ v: string }>(`SELECT toUInt64(${sqlUnsigned(value)}) AS v`);
      assert.equal(row.v, String(value));
    }
  });

  test('refuses anything that is not a non-negative integer', () => {
    for (const value of [-1, 1.5, Number.NaN, Infinity, 2 ** 53, -1n, 2n ** 64n, '1 OR 1=1' as unknown as number]) {
      assert.throws(() => sqlUnsigned(value), /not an unsigned 64-bit integer literal/, String(value));
    }
  });
});

test('the canary table survived every hostile string', async () => {
  const row = await one<{ n: string }>(`SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = ${sqlString(canary)}`);
  assert.equal(Number(row.n), 1);
});
