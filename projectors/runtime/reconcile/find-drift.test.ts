import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareWithPostgres, Drift } from '../sink.ts';
import { findDrift } from './find-drift.ts';

const drift = (key: string): Drift => ({ view: 'v', key, detail: `${key} differs` });

test('a key that differed only while in flight is not drift; one that keeps differing is', async () => {
  const calls: Array<string[] | 'all'> = [];
  let caughtUps = 0;
  // first look: a and b differ; after one catch-up only b does
  const compare: CompareWithPostgres = async ({ only }) => {
    calls.push(only ? [...(only.get('v') ?? [])] : 'all');
    return caughtUps === 0 ? [drift('a'), drift('b')] : [drift('b')].filter((d) => only?.get('v')?.has(d.key));
  };
  const result = await findDrift({ compare, generation: 1, env: {}, caughtUp: async () => void (caughtUps += 1), rounds: 2 });
  assert.deepEqual(result, { drift: [drift('b')], rechecks: 2 });
  assert.deepEqual(calls, ['all', ['a', 'b'], ['b']]);
});

test('no drift at first look: no catch-up wait at all', async () => {
  let waited = false;
  const result = await findDrift({ compare: async () => [], generation: 1, env: {}, caughtUp: async () => void (waited = true) });
  assert.deepEqual(result, { drift: [], rechecks: 0 });
  assert.equal(waited, false);
});
