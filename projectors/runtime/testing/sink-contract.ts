// The contract every store's sink must keep, as one suite each store runs against its real
// server: effects are idempotent, an older change never overwrites a newer one, snapshot reads
// only fill, a truncate removes exactly what precedes it in commit order, and the checkpoint
// round-trips. What is compared is what readers see (the view, the alias, the live label the
// store serves), never the raw table: a row the store holds but readers cannot see is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change } from '../decode/index.ts';
import type { Checkpoint, CheckpointStore, Mapping, Sink, StoreOp } from '../sink.ts';

export type SinkContractOptions<Op> = {
  store: string;
  mapping: Mapping<Op>;
  /** a fresh, empty sink (its own generation) */
  sink: () => Promise<Sink<Op> & CheckpointStore>;
  /**
   * What readers of the sink's generation see, read the way readers read it (the store's own
   * reader path), as comparable data without versions or bookkeeping.
   */
  view: () => Promise<unknown>;
  /** clears what the sink wrote, between tests */
  reset: () => Promise<void>;
  /**
   * A streamed change of row `id` of one table the store projects, its values chosen by
   * `variant` (both visible to readers, and different); the suite sets op, version and commit
   * order itself.
   */
  row: (id: number, variant: 'a' | 'b') => Change;
  /**
   * How the store applies TRUNCATE: 'exact' (whatever order the partitions arrive in),
   * 'in-commit-order' (exact only when the rows before and after it are applied in commit
   * order: Redis empties keys when the truncate arrives), or 'refused' (dead-lettered:
   * Elasticsearch).
   */
  truncates: 'exact' | 'in-commit-order' | 'refused';
};

const checkpoint = (nextOffset: string, commitOrder: bigint | null): Checkpoint => ({ topic: 'nova.contract.test', partition: 3, nextOffset, commitOrder });
const noRejections = async (rejected: unknown[]) => assert.deepEqual(rejected, []);

export function sinkContract<Op>(options: SinkContractOptions<Op>): void {
  const { store, mapping, row, view, reset } = options;
  // Each change mapped is the next record of its partition (a store may skip offsets it has
  // processed, as Redis does): a batch built once and applied again is a replay of the same records.
  let offset = 0;
  const ops = (...changes: Change[]): StoreOp<Op>[] =>
    changes.flatMap((change) => {
      const record = { ...change, position: { ...change.position, offset: String(++offset) } };
      return mapping(record).map((op) => ({ op, change: record }));
    });

  /** A streamed change of row `id` at `version`, committed at `commitOrder` (default: the version). */
  const streamed = (id: number, variant: 'a' | 'b', version: bigint, commitOrder = version): Change => ({ ...row(id, variant), op: 'update', version, commitOrder });
  /** A snapshot read of row `id`: version 0, read at `commitOrder` (0: an initial snapshot). */
  const read = (id: number, variant: 'a' | 'b', commitOrder = 0n): Change => ({ ...row(id, variant), op: 'read', before: null, version: 0n, commitOrder });
  /** A delete of row `id` (its old row in `before`, as REPLICA IDENTITY FULL sends it). */
  const deleted = (id: number, version: bigint): Change => ({ ...row(id, 'a'), op: 'delete', before: row(id, 'a').after, after: null, version, commitOrder: version });
  const truncate = (version: bigint, commitOrder = version): Change => ({ ...row(0, 'a'), op: 'truncate', key: null, before: null, after: null, version, commitOrder });

  async function withSink(work: (sink: Sink<Op> & CheckpointStore) => Promise<void>) {
    await reset();
    const sink = await options.sink();
    try {
      await work(sink);
    } finally {
      await sink.close();
    }
  }

  /** What readers see after applying each batch of `batches` in order to an empty generation. */
  const viewAfter = (...batches: Change[][]) =>
    new Promise<unknown>((resolve, reject) => {
      withSink(async (sink) => {
        for (const [i, batch] of batches.entries()) await sink.apply(ops(...batch), [checkpoint(String(i + 1), null)], noRejections);
        resolve(await view());
      }).catch(reject);
    });

  test(`${store}: applying a batch twice leaves the store as applying it once`, () =>
    withSink(async (sink) => {
      const batch = ops(streamed(1, 'b', 200n), streamed(2, 'a', 150n));
      await sink.apply(batch, [checkpoint('10', 200n)], noRejections);
      const once = await view();
      await sink.apply(batch, [checkpoint('10', 200n)], noRejections);
      assert.deepEqual(await view(), once);
    }));

  // Debezium after a connector crash: the same changes again, as new records (new offsets)
  test(`${store}: changes delivered again as new records leave the store as delivered once`, async () => {
    const history = [streamed(1, 'a', 100n), streamed(2, 'a', 150n), streamed(1, 'b', 200n), deleted(2, 300n)];
    const once = await viewAfter(history);
    assert.deepEqual(await viewAfter(history, history), once, 'the whole history again');
    assert.deepEqual(await viewAfter(history, history.slice(0, 2)), once, 'its first half again');
  });

  test(`${store}: a change with an older version never overwrites a newer one`, async () => {
    const newest = await viewAfter([streamed(1, 'b', 200n)]);
    assert.deepEqual(await viewAfter([streamed(1, 'b', 200n)], [streamed(1, 'a', 100n)]), newest);
    assert.notDeepEqual(await viewAfter([streamed(1, 'a', 100n)]), newest, 'the two variants look different to readers');
  });

  test(`${store}: a snapshot read never overwrites a change`, async () => {
    const newest = await viewAfter([streamed(1, 'b', 200n)]);
    assert.deepEqual(await viewAfter([streamed(1, 'b', 200n)], [read(1, 'a')]), newest);
    assert.deepEqual(await viewAfter([streamed(1, 'b', 200n)], [read(1, 'a', 300n)]), newest, 'an incremental read either');
  });

  // issue 8: a transaction that began before the slot's consistent point and committed after it
  // is not in the snapshot but is streamed after it, with change LSNs below the snapshot's
  test(`${store}: a streamed change committed after the snapshot point beats the snapshot read even with a lower change LSN`, async () => {
    const expected = await viewAfter([streamed(1, 'b', 5n)]);
    assert.deepEqual(await viewAfter([read(1, 'a')], [streamed(1, 'b', 5n)]), expected);
    assert.deepEqual(await viewAfter([read(1, 'a'), streamed(1, 'b', 5n)]), expected, 'in one batch');
  });

  test(`${store}: a snapshot read fills a row the store lacks exactly as the same row streamed`, async () => {
    const empty = await viewAfter([]);
    const filled = await viewAfter([read(2, 'a')]);
    assert.notDeepEqual(filled, empty);
    assert.deepEqual(filled, await viewAfter([streamed(2, 'a', 150n)]));
    assert.deepEqual(await viewAfter([read(2, 'a', 700n)]), filled, 'an incremental read fills alike');
  });

  test(`${store}: a delete is remembered: an older change arriving after it never brings the row back`, async () => {
    const empty = await viewAfter([]);
    assert.deepEqual(await viewAfter([streamed(1, 'a', 100n)], [deleted(1, 300n)]), empty, 'deleted');
    assert.deepEqual(await viewAfter([streamed(1, 'a', 100n)], [deleted(1, 300n)], [streamed(1, 'b', 200n)]), empty, 'an older change after it');
    assert.deepEqual(await viewAfter([deleted(1, 300n)], [read(1, 'a')]), empty, 'a snapshot read after it');
    assert.deepEqual(await viewAfter([deleted(1, 300n)], [streamed(1, 'b', 400n)]), await viewAfter([streamed(1, 'b', 400n)]), 'a newer change brings it back');
  });

  test(`${store}: the checkpoints of every partition in a call round-trip through load()`, () =>
    withSink(async (sink) => {
      // a commit order of epoch 5: past 2^53, so it must be kept as a 64-bit integer
      const high = checkpoint('42', (5n << 56n) | 4242n);
      const elsewhere: Checkpoint = { topic: 'nova.contract.other', partition: 0, nextOffset: '7', commitOrder: null };
      await sink.apply(ops(streamed(2, 'a', 150n)), [high, elsewhere], noRejections);
      const loaded = (await sink.load()).filter((c) => c.topic.startsWith('nova.contract.'));
      assert.deepEqual(loaded.sort((a, b) => a.topic.localeCompare(b.topic)), [elsewhere, high]);
    }));

  test(`${store}: a checkpoint below the stored one is not written: a partition's previous holder cannot set it back`, () =>
    withSink(async (sink) => {
      await sink.apply([], [checkpoint('250', 9n)], noRejections);
      const other: Checkpoint = { topic: 'nova.contract.other', partition: 1, nextOffset: '3', commitOrder: null };
      await sink.apply([], [checkpoint('200', 8n), other], noRejections);
      const written = (c: Checkpoint) => (c.topic === other.topic && c.partition === other.partition) || (c.topic === 'nova.contract.test' && c.partition === 3);
      const loaded = (await sink.load()).filter(written);
      assert.deepEqual(loaded.sort((a, b) => a.topic.localeCompare(b.topic)), [other, checkpoint('250', 9n)]);
    }));

  test(`${store}: replaying from before a crash converges to the same state`, () =>
    withSink(async (sink) => {
      const first = ops(streamed(1, 'a', 100n));
      const second = ops(streamed(1, 'b', 200n), streamed(2, 'a', 150n));
      await sink.apply(first, [checkpoint('1', 100n)], noRejections);
      await sink.apply(second, [checkpoint('3', 200n)], noRejections);
      const expected = await view();
      // a crash after the effects but before the checkpoint: the range is read again
      await sink.apply(first, [checkpoint('1', 100n)], noRejections);
      await sink.apply(second, [checkpoint('3', 200n)], noRejections);
      assert.deepEqual(await view(), expected);
    }));

  if (options.truncates === 'refused') return;

  // The truncate commits at (order 500, version 510). Rows arrive on other partitions in any order.
  const T = truncate(510n, 500n);
  const before = [streamed(1, 'a', 100n, 90n), read(2, 'a'), read(5, 'b', 400n)];
  const after = [streamed(3, 'b', 520n, 505n), read(4, 'a', 600n)];

  test(`${store}: a truncate removes exactly what precedes it in commit order`, async () => {
    const survivors = await viewAfter(after);
    assert.notDeepEqual(survivors, await viewAfter([]));
    assert.deepEqual(await viewAfter(before, [T], after), survivors);
    // a change from before it, on a partition that lags, arrives after it: refused
    assert.deepEqual(await viewAfter(before, [T], [streamed(7, 'a', 300n), read(8, 'a', 450n)], after), survivors);
  });

  if (options.truncates === 'exact') {
    test(`${store}: a truncate removes exactly what precedes it, whatever order the partitions arrive in`, async () => {
      const survivors = await viewAfter(after);
      // what came after it was applied first (another partition ran ahead), what came before it arrives late
      assert.deepEqual(await viewAfter(after, [T], before), survivors);
      assert.deepEqual(await viewAfter([...after, ...before, T]), survivors, 'in one batch');
    });
  }

  test(`${store}: a change in the truncating transaction after the truncate survives it`, async () => {
    // TRUNCATE then INSERT in one transaction: the same commit order, the insert's version is higher
    const expected = await viewAfter([streamed(6, 'a', 530n, 500n)]);
    assert.deepEqual(await viewAfter([T], [streamed(6, 'a', 530n, 500n)]), expected);
    if (options.truncates === 'exact') assert.deepEqual(await viewAfter([streamed(6, 'a', 530n, 500n)], [T]), expected, 'applied before the truncate');
  });
}
