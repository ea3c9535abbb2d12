// Pure: how a row of PostgreSQL and a row of Milvus compare; no server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMBEDDING_DIM } from './collections.ts';
import { byKey, differences, type Embedding, type StoredEmbedding } from './drift.ts';

const vector = (value: number) => Array.from({ length: EMBEDDING_DIM }, (_, i) => value + i / 1024);
const want = (values: Partial<Embedding> = {}): Embedding => ({ embedding: vector(0.1), model_version: 'm1', updated_at: Date.UTC(2026, 0, 1), ...values });
const got = (values: Partial<StoredEmbedding> = {}): StoredEmbedding => ({ ...want(), version: (1n << 56n) | 0x1ea3f08n, ...values });
const compare = (expected: Array<[string, Embedding]>, actual: Array<[string, StoredEmbedding]>, keys?: string[]) =>
  differences('user_embeddings', new Map(expected), new Map(actual), keys).map(({ key, detail }) => [key, detail]);

test('a row Milvus holds as float32 equals the one PostgreSQL holds', () => {
  assert.deepEqual(compare([['1', want()]], [['1', got({ embedding: vector(0.1).map(Math.fround) })]]), []);
});

test('each way a row differs, in one short line', () => {
  const exact = vector(0.25);
  const off = [...exact];
  off[7] = 0.5;
  assert.deepEqual(compare([['1', want({ embedding: exact })]], [['1', got({ embedding: off })]]), [['1', 'differs in embedding (1 of 256 values; [7] 0.2568359375 expected, 0.5 found) (version e1:0/1EA3F08)']]);
  assert.deepEqual(compare([['1', want()]], [['1', got({ embedding: [1, 2] })]]), [['1', 'differs in embedding (256 dimensions expected, 2 found) (version e1:0/1EA3F08)']]);
  assert.deepEqual(compare([['1', want()]], [['1', got({ model_version: 'm2', updated_at: Date.UTC(2026, 0, 2) })]]), [
    ['1', 'differs in model_version ("m1" expected, "m2" found), updated_at (2026-01-01T00:00:00.000Z expected, 2026-01-02T00:00:00.000Z found) (version e1:0/1EA3F08)'],
  ]);
});

test('a row on one side only: missing (saying why when Milvus cannot hold it), or not in PostgreSQL', () => {
  const nan = vector(0.1);
  nan[3] = NaN;
  assert.deepEqual(compare([['1', want()], ['2', want({ embedding: nan })]], [['9223372036854775807', got()]]), [
    ['1', 'missing: PostgreSQL has model m1'],
    ['2', 'missing: PostgreSQL has model m1 (embedding[3] is NaN: Milvus stores finite float32 values only: the projector dead-letters it)'],
    ['9223372036854775807', 'not in PostgreSQL: Milvus holds model m1 (version e1:0/1EA3F08)'],
  ]);
});

test('only the keys asked for are compared', () => {
  assert.deepEqual(compare([['1', want()], ['2', want()]], [['3', got()]], ['2', '4']), [['2', 'missing: PostgreSQL has model m1']]);
});

test('keys sort as numbers, beyond 2^53 too', () => {
  assert.deepEqual(['10', '9', '-1', '9007199254740993', '9007199254740992'].sort(byKey), ['-1', '9', '10', '9007199254740992', '9007199254740993']);
});
