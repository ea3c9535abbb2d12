import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codes } from '../errors.ts';
import { retainedRangeProblem } from './retained.ts';

const range = (low: number, high: number) => ({ topic: 't', partition: 2, low: String(low), high: String(high), retentionMs: 1000 });
const at = (nextOffset: number) => ({ topic: 't', partition: 2, nextOffset: String(nextOffset), commitOrder: null });

test('a checkpoint inside the retained range, at its start or at its end, is fine', () => {
  for (const next of [5, 7, 10]) assert.equal(retainedRangeProblem(at(next), range(5, 10), false), undefined);
});

test('a checkpoint before the first retained record is a gap: retention deleted what was never applied', () => {
  const problem = retainedRangeProblem(at(4), range(5, 10), false);
  assert.equal(problem?.code, codes.retentionGap);
  assert.match(problem?.reason ?? '', /t\[2\].*offset 4.*starts at 5.*1 records.*rebuild .*--snapshot/);
});

test('a checkpoint beyond the end names the recreated topic', () => {
  assert.equal(retainedRangeProblem(at(11), range(0, 10), true)?.code, codes.beyondEnd);
});

test('no checkpoint: fine on a whole topic or when a snapshot fills the rest, a gap on a cut one', () => {
  assert.equal(retainedRangeProblem(undefined, range(0, 10), false), undefined);
  assert.equal(retainedRangeProblem(undefined, range(3, 10), true), undefined);
  assert.equal(retainedRangeProblem(undefined, range(3, 10), false)?.code, codes.retentionGap);
});
