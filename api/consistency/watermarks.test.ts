// The waiting rule in isolation (pure: a scripted slot, end offsets and checkpoints): the three
// steps in order, a quiet partition, the deadline, and a step that throws (a store or Kafka
// away) counted as lagging instead of failing the read. api.e2e.test.ts covers it on the stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import type { Admin } from 'kafkajs';
import type { Checkpoint } from '../../projectors/runtime/sink.ts';
import { createWatermarks } from './watermarks.ts';

type Script = { slot: () => string; ends: () => { partition: number; high: string }[]; applied: () => Checkpoint[] };

function watermarks(script: Script) {
  const pool = { query: async () => ({ rows: [{ lsn: script.slot() }] }) } as unknown as pg.Pool;
  const admin = { fetchTopicOffsets: async () => script.ends().map((e) => ({ ...e, offset: e.high, low: '0' })) } as unknown as Admin;
  return createWatermarks({ pool, admin, slot: 'nova', pollMs: 1, onError: () => {}, views: [{ name: 'redis', topics: ['t'], checkpoints: async () => script.applied() }] });
}
const checkpoint = (partition: number, nextOffset: string): Checkpoint => ({ topic: 't', partition, nextOffset, commitOrder: 0n }) as Checkpoint;

test('applied once the slot passed the token and every partition is checkpointed at its end; a quiet partition waits for nothing', async () => {
  let next = '3';
  const marks = watermarks({ slot: () => '0/10', ends: () => [{ partition: 0, high: '5' }, { partition: 1, high: '7' }], applied: () => [checkpoint(0, next), checkpoint(1, '7')] });
  setTimeout(() => (next = '5'), 20);
  const outcome = await marks.waitFor(0x10n, ['redis'], 2_000);
  assert.deepEqual([outcome.applied, outcome.lagging], [true, []]);
  assert.ok(outcome.waitedMs >= 15, 'it waited for partition 0');
});

test('a slot below the token, or a checkpoint below an end, is lagging at the deadline', async () => {
  const slotBehind = await watermarks({ slot: () => '0/F', ends: () => [{ partition: 0, high: '1' }], applied: () => [checkpoint(0, '1')] }).waitFor(0x10n, ['redis'], 30);
  assert.deepEqual([slotBehind.applied, slotBehind.lagging], [false, ['redis']]);
  const behind = await watermarks({ slot: () => '0/10', ends: () => [{ partition: 0, high: '2' }], applied: () => [checkpoint(0, '1')] }).waitFor(0x10n, ['redis'], 30);
  assert.deepEqual([behind.applied, behind.lagging], [false, ['redis']]);
});

test('a step that throws is retried until the deadline, then the view is lagging: never an error', async () => {
  const away = () => {
    throw new Error('connection refused');
  };
  const healthyScript = (): Script => ({ slot: () => '0/10', ends: () => [{ partition: 0, high: '1' }], applied: () => [checkpoint(0, '1')] });
  for (const broken of ['slot', 'ends', 'applied'] as const) {
    const script = healthyScript();
    const outcome = await watermarks({ ...script, [broken]: away }).waitFor(0x10n, ['redis'], 30);
    assert.deepEqual([outcome.applied, outcome.lagging], [false, ['redis']], broken);
  }
  for (const broken of ['slot', 'ends', 'applied'] as const) {
    let calls = 0;
    const script = healthyScript();
    const healthy = script[broken] as () => never;
    const flaky = await watermarks({ ...script, [broken]: () => (++calls < 3 ? away() : healthy()) }).waitFor(0x10n, ['redis'], 2_000);
    assert.deepEqual([flaky.applied, calls], [true, 3], `${broken} back within the bound: applied`);
  }
});

test('an end-offset fetch is shared only by waiters whose token the slot had passed before it started', async () => {
  let slot = '0/10';
  let fetches = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const pool = { query: async () => ({ rows: [{ lsn: slot }] }) } as unknown as pg.Pool;
  // the first fetch is held open until released; each fetch's end is its number
  const admin = {
    fetchTopicOffsets: async () => {
      const n = ++fetches;
      if (n === 1) await gate;
      return [{ partition: 0, high: String(n * 10), offset: String(n * 10), low: '0' }];
    },
  } as unknown as Admin;
  let applied = '10';
  const marks = createWatermarks({ pool, admin, slot: 'nova', pollMs: 1, onError: () => {}, views: [{ name: 'redis', topics: ['t'], checkpoints: async () => [checkpoint(0, applied)] }] });
  const first = marks.waitFor(0x10n, ['redis'], 2_000);
  const twin = marks.waitFor(0x08n, ['redis'], 2_000);
  await new Promise((resolve) => setTimeout(resolve, 10));
  slot = '0/20';
  await new Promise((resolve) => setTimeout(resolve, 5)); // past the slot read's reuse
  // the slot has passed 0x20 now, but the fetch in flight started before: it must not serve this token
  const later = marks.waitFor(0x20n, ['redis'], 2_000);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(fetches, 2, 'a token past the slot position seen before the first fetch fetches anew, even while it is in flight');
  release();
  assert.deepEqual([(await first).applied, (await twin).applied], [true, true], 'the first two share the first fetch (end 10)');
  const pending = await Promise.race([later.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 30))]);
  assert.equal(pending, 'waiting', 'the later token waits for its own fetch\'s end (20)');
  applied = '20';
  assert.equal((await later).applied, true);
  assert.equal(fetches, 2);
});

test('a read that hangs holds the others back no longer than its stuck bound; one that fails is tried again', async () => {
  let calls = 0;
  const pool = { query: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve({ rows: [{ lsn: '0/10' }] })) } as unknown as pg.Pool;
  const admin = { fetchTopicOffsets: async () => [{ partition: 0, high: '1', offset: '1', low: '0' }] } as unknown as Admin;
  const marks = createWatermarks({ pool, admin, slot: 'nova', pollMs: 1, onError: () => {}, views: [{ name: 'redis', topics: ['t'], checkpoints: async () => [checkpoint(0, '1')] }] });
  const outcome = await marks.waitFor(0x10n, ['redis'], 3_000);
  assert.deepEqual([outcome.applied, calls >= 2], [true, true], 'a second slot read started past the hung one');
});
