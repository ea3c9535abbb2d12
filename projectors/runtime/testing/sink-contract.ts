// The contract every store's sink must keep, as one suite each store runs against its
// real server: effects are idempotent, an older change never overwrites a newer one,
// and the checkpoint round-trips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Change } from '../decode/index.ts';
import type { Checkpoint, CheckpointStore, Mapping, Sink, StoreOp } from '../sink.ts';

export type SinkContractOptions<Op> = {
  store: string;
  mapping: Mapping<Op>;
  /** a fresh, empty sink (its own generation) */
  sink: () => Promise<Sink<Op> & CheckpointStore>;
  /** everything the store holds for this sink, as comparable data */
  snapshot: () => Promise<unknown>;
  /** clears what the sink wrote, between tests */
  reset: () => Promise<void>;
  /** two versions of one row: `older` then `newer` (higher LSN), and an unrelated row */
  fixtures: { older: Change; newer: Change; other: Change };
};

const checkpoint = (nextOffset: string, lsn: number): Checkpoint => ({ topic: 'nova.contract.test', partition: 3, nextOffset, lsn });
const noRejections = async (rejected: unknown[]) => assert.deepEqual(rejected, []);

export function sinkContract<Op>(options: SinkContractOptions<Op>): void {
  const { store, mapping, fixtures, snapshot, reset } = options;
  const ops = (...changes: Change[]): StoreOp<Op>[] => changes.flatMap((change) => mapping(change).map((op) => ({ op, change })));

  async function withSink(work: (sink: Sink<Op> & CheckpointStore) => Promise<void>) {
    await reset();
    const sink = await options.sink();
    try {
      await work(sink);
    } finally {
      await sink.close();
    }
  }

  test(`${store}: applying a batch twice leaves the store as applying it once`, () =>
    withSink(async (sink) => {
      await sink.apply(ops(fixtures.newer, fixtures.other), [checkpoint('10', fixtures.newer.lsn ?? 0)], noRejections);
      const once = await snapshot();
      await sink.apply(ops(fixtures.newer, fixtures.other), [checkpoint('10', fixtures.newer.lsn ?? 0)], noRejections);
      assert.deepEqual(await snapshot(), once);
    }));

  test(`${store}: a change with an older LSN never overwrites a newer one`, () =>
    withSink(async (sink) => {
      await sink.apply(ops(fixtures.newer), [checkpoint('5', fixtures.newer.lsn ?? 0)], noRejections);
      const newest = await snapshot();
      await sink.apply(ops(fixtures.older), [checkpoint('6', fixtures.older.lsn ?? 0)], noRejections);
      assert.deepEqual(await snapshot(), newest);
    }));

  // incremental snapshot reads carry no LSN; the decoder gives them 0 (avro-decoder.ts)
  const asRead = (change: Change): Change => ({ ...change, op: 'read', before: null, lsn: 0 });

  test(`${store}: a snapshot read without an LSN (0) never overwrites a change`, () =>
    withSink(async (sink) => {
      await sink.apply(ops(fixtures.newer), [checkpoint('8', fixtures.newer.lsn ?? 0)], noRejections);
      const newest = await snapshot();
      await sink.apply(ops(asRead(fixtures.older)), [checkpoint('9', fixtures.newer.lsn ?? 0)], noRejections);
      assert.deepEqual(await snapshot(), newest);
    }));

  test(`${store}: a snapshot read without an LSN (0) fills a row the store lacks`, () =>
    withSink(async (sink) => {
      const empty = await snapshot();
      await sink.apply(ops(asRead(fixtures.other)), [checkpoint('1', 0)], noRejections);
      assert.notDeepEqual(await snapshot(), empty);
    }));

  test(`${store}: the checkpoints of every partition in a call round-trip through load()`, () =>
    withSink(async (sink) => {
      const elsewhere: Checkpoint = { topic: 'nova.contract.other', partition: 0, nextOffset: '7', lsn: null };
      await sink.apply(ops(fixtures.other), [checkpoint('42', 4242), elsewhere], noRejections);
      const loaded = (await sink.load()).filter((c) => c.topic.startsWith('nova.contract.'));
      assert.deepEqual(loaded.sort((a, b) => a.topic.localeCompare(b.topic)), [elsewhere, checkpoint('42', 4242)]);
    }));

  test(`${store}: replaying from before a crash converges to the same state`, () =>
    withSink(async (sink) => {
      await sink.apply(ops(fixtures.older), [checkpoint('1', fixtures.older.lsn ?? 0)], noRejections);
      await sink.apply(ops(fixtures.newer, fixtures.other), [checkpoint('3', fixtures.newer.lsn ?? 0)], noRejections);
      const expected = await snapshot();
      // a crash after the effects but before the checkpoint: the range is read again
      await sink.apply(ops(fixtures.older), [checkpoint('1', fixtures.older.lsn ?? 0)], noRejections);
      await sink.apply(ops(fixtures.newer, fixtures.other), [checkpoint('3', fixtures.newer.lsn ?? 0)], noRejections);
      assert.deepEqual(await snapshot(), expected);
    }));
}
