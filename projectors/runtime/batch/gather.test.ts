import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gather } from './gather.ts';

const flushesOf = (options: { maxWeight: number; maxInFlight: number }, hold?: Promise<void>) => {
  const flushes: string[][] = [];
  const submit = gather<string>({
    ...options,
    flush: async (items) => {
      flushes.push(items);
      await hold;
    },
  });
  return { flushes, submit };
};

test('items handed in together share one flush', async () => {
  const { flushes, submit } = flushesOf({ maxWeight: 100, maxInFlight: 2 });
  await Promise.all(['a', 'b', 'c'].map((item) => submit(item, 1)));
  assert.deepEqual(flushes, [['a', 'b', 'c']]);
});

test('a flush stops at maxWeight, but always takes one item', async () => {
  const { flushes, submit } = flushesOf({ maxWeight: 10, maxInFlight: 4 });
  await Promise.all([submit('a', 6), submit('b', 4), submit('c', 1), submit('big', 50)]);
  assert.deepEqual(flushes, [['a', 'b'], ['c'], ['big']]);
});

test('while maxInFlight flushes run, new items wait and join the next flush together', async () => {
  let release: () => void = () => {};
  const hold = new Promise<void>((resolve) => (release = resolve));
  const { flushes, submit } = flushesOf({ maxWeight: 100, maxInFlight: 1 }, hold);
  const first = submit('a', 1);
  await new Promise((resolve) => setImmediate(resolve));
  const later = [submit('b', 1), submit('c', 1)];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(flushes, [['a']]);
  release();
  await Promise.all([first, ...later]);
  assert.deepEqual(flushes, [['a'], ['b', 'c']]);
});

test("a failed flush rejects exactly its own items' promises", async () => {
  const submit = gather<string>({
    maxWeight: 1,
    maxInFlight: 2,
    flush: async ([item]) => {
      if (item === 'bad') throw new Error('store refused');
    },
  });
  const [good, bad] = await Promise.allSettled([submit('good', 1), submit('bad', 1)]);
  assert.equal(good.status, 'fulfilled');
  assert.equal(bad.status === 'rejected' && (bad.reason as Error).message, 'store refused');
});
