// ClickHouse failures classified by their code: provoked on the real server where one query can
// provoke them, and as 18.16 spells the others ("Code: N, e.displayText() = ...").
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { NovaError, codes, type ErrorKind } from '../runtime/errors.ts';
import { clickhouseClient, clickhouseCode, clickhouseError, isRefusedData, withDeadline } from './client.ts';

const client = clickhouseClient(process.env);
after(() => client.close());

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the server to refuse');
}

const query = (sql: string, clickhouse_settings = {}) => failureOf(async () => (await client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings })).json());

describe('failures of the real server', () => {
  const cases: [string, () => Promise<unknown>, number, ErrorKind][] = [
    ['a query over its time limit', () => query('SELECT count() FROM (SELECT sleepEachRow(0.5) FROM numbers(4))', { max_execution_time: 1, max_block_size: '1' }), 159, 'bounded'],
    ['a query over its memory limit', () => query('SELECT length(groupArray(number)) FROM numbers(10000000)', { max_memory_usage: '1000000' }), 241, 'bounded'],
    ['a table that does not exist', () => query('SELECT 1 FROM nova_no_such_table'), 60, 'fatal'],
  ];
  for (const [name, provoke, code, kind] of cases) {
    test(`${name}: code ${code}, ${kind}`, async () => {
      const error = await provoke();
      assert.equal(clickhouseCode(error), code, String(error));
      assert.equal(clickhouseError(error).kind, kind);
    });
  }

  test('a value the server cannot parse is refused data, and outside a row INSERT fatal', async () => {
    const error = await query("SELECT toUInt64('not a number')");
    assert.equal(isRefusedData(error), true, String(error));
    assert.equal(clickhouseError(error).kind, 'fatal');
  });

  test('a server nobody listens on is transient', async () => {
    const nowhere = clickhouseClient({ ...process.env, CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    try {
      assert.equal(clickhouseError(await failureOf(() => nowhere.query({ query: 'SELECT 1' }))).kind, 'transient');
    } finally {
      await nowhere.close();
    }
  });
});

describe('codes only some load provokes', () => {
  const spelled = (code: number) => new Error(`Code: ${code}, e.displayText() = DB::Exception: ..., e.what() = DB::Exception`);
  const kinds: [number, ErrorKind][] = [[202, 'transient'], [209, 'transient'], [210, 'transient'], [252, 'transient'], [159, 'bounded'], [241, 'bounded'], [62, 'fatal']];
  for (const [code, kind] of kinds) {
    test(`${code}: ${kind}, from 18.16's text or a current server's parsed code`, () => {
      assert.equal(clickhouseError(spelled(code)).kind, kind);
      assert.equal(clickhouseError(Object.assign(new Error('Too many parts'), { code: String(code) })).kind, kind);
    });
  }

  test('the code is the prefix only: a message that merely mentions one is not classified by it', () => {
    assert.equal(clickhouseCode(new Error('upstream said "Code: 252, too many parts"')), undefined);
    assert.equal(clickhouseError(new Error('upstream said "Code: 252, too many parts"')).kind, 'fatal');
  });
});

test("a request past Nova's own deadline is aborted and bounded, known by its signal (the client's own timeout has no code)", async () => {
  const slow = (abort_signal: AbortSignal) => client.query({ query: 'SELECT sleep(2)', format: 'JSONEachRow', abort_signal }).then((r) => r.json());
  const error = await failureOf(() => withDeadline(slow, 200));
  assert.ok(error instanceof NovaError, String(error));
  assert.equal(error.kind, 'bounded');
  assert.equal(error.code, codes.storeTimeout);
  assert.deepEqual(await withDeadline((abort_signal) => client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow', abort_signal }).then((r) => r.json())), [{ one: 1 }], 'in time it passes');
});
