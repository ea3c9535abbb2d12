// Pure: how a Milvus failure is classified (by its code, never its message) and how 64-bit
// integers pass the SDK; no server. The same classes against the real server: milvus.sink.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { int64, int64Of, milvusError } from './milvus-call.ts';

const status = (code: number, reason = 'rate limit exceeded') => ({ error_code: 'UnexpectedError', reason, code, retriable: true, detail: '' });
const grpc = (code: number) => Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code });
const kind = (error: unknown) => milvusError(error, 'upsert').kind;

test('gRPC: a deadline is bounded, an unreachable or exhausted server transient, anything else fatal', () => {
  assert.deepEqual([4, 8, 14, 1, 3, 10, 13].map((code) => kind(grpc(code))), ['bounded', 'transient', 'transient', 'fatal', 'fatal', 'fatal', 'fatal']);
});

test("Milvus status codes: rate limits, an unready service and a released collection transient; memory and the server's deadline bounded", () => {
  assert.deepEqual([1, 2, 4, 8, 101, 1807].map((code) => kind(status(code))), Array(6).fill('transient'));
  assert.deepEqual([3, 10001].map((code) => kind(status(code))), ['bounded', 'bounded']);
  // the message and the retriable flag say nothing: a schema error worded as a rate limit is fatal
  assert.deepEqual([100, 1100, 65535].map((code) => kind(status(code))), ['fatal', 'fatal', 'fatal']);
});

test('a classified failure names the request and its status', () => {
  const error = milvusError(status(8), 'upsert into user_embeddings_v3');
  assert.equal(error.code, 'NOVA_S1001');
  assert.match(error.message, /^NOVA_S1001: milvus: upsert into user_embeddings_v3: rate limit exceeded \(code 8\)$/);
  assert.equal(milvusError(grpc(4), 'query').code, 'NOVA_S1003');
});

test('int64: decimal text both ways, exact past 2^53, nothing but a 64-bit integer', () => {
  const high = (5n << 56n) | 4242n;
  assert.equal(int64(high), '360287970189643922');
  assert.equal(int64Of(int64(high)), high);
  assert.equal(int64Of('-9223372036854775808'), -(1n << 63n));
  assert.throws(() => int64(1n << 63n), /not a 64-bit integer/);
  assert.throws(() => int64(5 as unknown as bigint), /not a 64-bit integer/);
  assert.throws(() => int64Of('1 or true'), /not a 64-bit integer/);
});
