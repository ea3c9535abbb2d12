import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trackCatchUp } from './catch-up.ts';

const checkpoint = (topic: string, partition: number, nextOffset: number) => ({ topic, partition, nextOffset: String(nextOffset), commitOrder: null });
const settled = async (promise: Promise<void>) => Promise.race([promise.then(() => true), new Promise((resolve) => setImmediate(() => resolve(false)))]);

test('done once every partition reached its target; progress counts only the range', async () => {
  const catchUp = trackCatchUp([
    { topic: 't', partition: 0, start: 10n, end: 20n },
    { topic: 't', partition: 1, start: 0n, end: 5n },
  ]);
  assert.deepEqual(catchUp.progress(), { applied: 0n, total: 15n });
  catchUp.onCheckpoint(checkpoint('t', 0, 20));
  assert.equal(await settled(catchUp.done), false);
  catchUp.onCheckpoint(checkpoint('t', 1, 3));
  assert.deepEqual(catchUp.progress(), { applied: 13n, total: 15n });
  catchUp.onCheckpoint(checkpoint('t', 1, 9)); // past the target: records written since count as done
  assert.equal(await settled(catchUp.done), true);
  assert.deepEqual(catchUp.progress(), { applied: 15n, total: 15n });
});

test('nothing to read (empty partitions, or checkpoints already at the end) is done at once', async () => {
  assert.equal(await settled(trackCatchUp([{ topic: 't', partition: 0, start: 7n, end: 7n }]).done), true);
  assert.equal(await settled(trackCatchUp([]).done), true);
});

test('checkpoints of partitions outside the target are ignored', async () => {
  const catchUp = trackCatchUp([{ topic: 't', partition: 0, start: 0n, end: 1n }]);
  catchUp.onCheckpoint(checkpoint('other', 0, 100));
  assert.equal(await settled(catchUp.done), false);
});
