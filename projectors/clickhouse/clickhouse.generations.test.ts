// The ClickHouse-specific behaviour behind the sink contract, against the real server: deletes
// and truncates in the current state, replays collapsing on disk, the newest checkpoint per
// partition, a refused row dead-lettered alone, and the generation seam (view swap, drop).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { Change, Operation } from '../runtime/decode/index.ts';
import type { Rejected, StoreOp } from '../runtime/sink.ts';
import { clearCheckpoints, loadCheckpoints } from './checkpoint.ts';
import { clickhouseClient } from './client.ts';
import { sqlIdentifier, sqlString } from './escape.ts';
import { clickhouseGenerations, dropGeneration, ensureGeneration, liveGeneration, swapView } from './generations.ts';
import { mapChange, type ClickhouseOp } from './mapping/index.ts';
import { createClickhouseSink } from './sink.ts';
import { currentStateQuery, generationTable, userBehaviorEvents } from './tables.ts';

const client = clickhouseClient(process.env);
const used: number[] = [];
const view = `user_behavior_events_test_${randomInt(1_000_000_000)}`;
const projector = `generations-test-${randomInt(1_000_000_000)}`;

after(async () => {
  for (const generation of used) {
    await dropGeneration(client, generation, view);
    await dropGeneration(client, generation);
    await clearCheckpoints(client, { projector, generation });
  }
  await client.close();
});

async function freshSink() {
  const generation = randomInt(100_000_000, 1_000_000_000);
  used.push(generation);
  await ensureGeneration(client, generation);
  return { generation, sink: createClickhouseSink({ client: clickhouseClient(process.env), generation, projector }) };
}

let offset = 0;
function change(op: Operation, id: number | null, lsn: number, interaction_type = 'view'): Change {
  const after = op === 'delete' || op === 'truncate' ? null : { id, user_id: 3, target_type: 'post', target_id: 9, interaction_type, interaction_value: 0.5, metadata: null, created_at: new Date(1_700_000_000_000) };
  return {
    kind: 'change', op, table: 'public.user_interactions', key: id === null ? null : { id }, before: null, after, lsn, txId: lsn, commitTs: new Date(1_700_000_000_000),
    position: { topic: 'nova.user.user_interactions', partition: 1, offset: String(++offset) },
  };
}
const ops = (...changes: Change[]): StoreOp<ClickhouseOp>[] => changes.flatMap((c) => mapChange(c).map((op) => ({ op, change: c })));
const noRejections = async (rejected: Rejected[]) => assert.deepEqual(rejected, []);

async function rows<T = Record<string, unknown>>(query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}
const currentState = (generation: number) => rows<{ id: string; interaction_type: string }>(`${currentStateQuery(userBehaviorEvents, generation)} ORDER BY id`);
const idsAndTypes = async (generation: number) => (await currentState(generation)).map((r) => `${r.id}:${r.interaction_type}`);

describe('current state', () => {
  test('a delete hides the row, whichever part holds which version, before and after merging', async () => {
    const { generation, sink } = await freshSink();
    await sink.apply(ops(change('create', 1, 10), change('create', 2, 11)), [], noRejections);
    await sink.apply(ops(change('delete', 1, 20)), [], noRejections);
    // an older version of the deleted row, inserted late (a replay): still hidden
    await sink.apply(ops(change('update', 1, 15, 'like')), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['2:view']);
    await client.command({ query: `OPTIMIZE TABLE ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} FINAL` });
    assert.deepEqual(await idsAndTypes(generation), ['2:view']);
    await sink.close();
  });

  test('a truncate hides every older row, also one applied after it (another partition), but not newer ones', async () => {
    const { generation, sink } = await freshSink();
    await sink.apply(ops(change('create', 1, 10), change('create', 2, 20)), [], noRejections);
    await sink.apply(ops(change('truncate', null, 30), change('create', 4, 40)), [], noRejections);
    await sink.apply(ops(change('update', 3, 25)), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['4:view']);
    // the same changes again, in another order: the same state
    await sink.apply(ops(change('create', 4, 40), change('update', 3, 25), change('truncate', null, 30), change('create', 2, 20)), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['4:view']);
    await sink.close();
  });

  test('a batch applied three times collapses on disk to one row per id', async () => {
    const { generation, sink } = await freshSink();
    const batch = ops(change('create', 1, 10), change('update', 1, 12, 'like'), change('create', 2, 11), change('delete', 2, 13));
    for (let i = 0; i < 3; i++) await sink.apply(batch, [], noRejections);
    const table = sqlIdentifier(generationTable(userBehaviorEvents, generation));
    const raw = () => rows<{ id: string; lsn: string; is_deleted: number }>(`SELECT id, lsn, is_deleted FROM ${table} ORDER BY id`);
    // a background merge may hold the parts for a moment: OPTIMIZE again until it has run
    const merged = await waitFor('OPTIMIZE FINAL to merge the parts', async () => {
      await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
      const found = await raw();
      return found.length === 2 ? found : undefined;
    }, 30_000);
    assert.deepEqual(merged, [{ id: '1', lsn: '12', is_deleted: 0 }, { id: '2', lsn: '13', is_deleted: 1 }]);
    await sink.close();
  });
});

describe('sink', () => {
  test('a row the server refuses is dead-lettered alone; the rest of the batch and the checkpoint are written', async () => {
    const { generation, sink } = await freshSink();
    const good = ops(change('create', 1, 10), change('create', 3, 12));
    const [bad] = ops(change('create', 2, 11));
    // something no mapping produces: an object where ClickHouse expects a String
    const refused: StoreOp<ClickhouseOp> = { ...bad!, op: { ...bad!.op, row: { ...(bad!.op as Extract<ClickhouseOp, { kind: 'row' }>).row, target_type: { not: 'a string' } } } as ClickhouseOp };
    const rejected: Rejected[] = [];
    await sink.apply([good[0]!, refused, good[1]!], [{ topic: 'nova.user.user_interactions', partition: 1, nextOffset: '99', lsn: 12 }], async (r) => void rejected.push(...r));
    assert.deepEqual(rejected.map((r) => r.position), [refused.change.position]);
    assert.match(rejected[0]?.reason ?? '', /Code: 26.*target_type/s);
    assert.deepEqual(await idsAndTypes(generation), ['1:view', '3:view']);
    assert.deepEqual(await sink.load(), [{ topic: 'nova.user.user_interactions', partition: 1, nextOffset: '99', lsn: 12 }]);
    await sink.close();
  });

  test('load() returns the newest checkpoint per partition before any merge, and a NULL LSN as null', async () => {
    const { sink } = await freshSink();
    const at = (partition: number, nextOffset: string, lsn: number | null) => ({ topic: 'nova.user.user_interactions', partition, nextOffset, lsn });
    for (const [offset, lsn] of [['5', 50], ['9007199254740993', 70], ['7', 60]] as const) await sink.apply([], [at(0, offset, lsn)], noRejections);
    await sink.apply([], [at(1, '3', 30)], noRejections);
    await sink.apply([], [at(1, '4', null)], noRejections);
    const loaded = (await sink.load()).sort((a, b) => a.partition - b.partition);
    assert.deepEqual(loaded, [at(0, '9007199254740993', 70), at(1, '4', null)]);
    await sink.close();
  });
});

describe('generation seam', () => {
  test('swapView points the stable name at a generation in one step; readers never see it missing', async () => {
    const [a, b] = [await freshSink(), await freshSink()];
    await a.sink.apply(ops(change('create', 1, 10, 'from a')), [], noRejections);
    await b.sink.apply(ops(change('create', 1, 10, 'from b'), change('create', 2, 11, 'from b')), [], noRejections);
    assert.equal(await liveGeneration(client, userBehaviorEvents, view), null);
    assert.equal(await swapView(client, { table: userBehaviorEvents, generation: a.generation, view }), null);
    const read = () => rows<{ id: string; interaction_type: string }>(`SELECT id, interaction_type FROM ${sqlIdentifier(view)} ORDER BY id`);
    assert.deepEqual(await read(), [{ id: '1', interaction_type: 'from a' }]);

    // a reader polls while the view is swapped back and forth
    let swapping = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (swapping) seen.add(JSON.stringify(await read()));
    })();
    let live = a.generation;
    for (let i = 0; i < 10; i++) {
      const next = live === a.generation ? b.generation : a.generation;
      assert.equal(await swapView(client, { table: userBehaviorEvents, generation: next, view }), live);
      live = next;
    }
    swapping = false;
    await reader;
    assert.deepEqual([...seen].sort(), [JSON.stringify([{ id: '1', interaction_type: 'from a' }]), JSON.stringify([{ id: '1', interaction_type: 'from b' }, { id: '2', interaction_type: 'from b' }])].sort());
    assert.equal(await liveGeneration(client, userBehaviorEvents, view), a.generation);
    const leftovers = await rows(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name IN (${sqlString(`${view}_next`)}, ${sqlString(`${view}_retired`)})`);
    assert.deepEqual(leftovers, []);
    await Promise.all([a.sink.close(), b.sink.close()]);
  });

  test('swapView to a generation without tables fails before the view moves', async () => {
    const { generation, sink } = await freshSink();
    await swapView(client, { table: userBehaviorEvents, generation, view });
    await assert.rejects(swapView(client, { table: userBehaviorEvents, generation: 1_999_999_999, view }), /doesn't exist/);
    assert.equal(await liveGeneration(client, userBehaviorEvents, view), generation);
    await sink.close();
  });

  test('dropGeneration drops its tables and a view still reading them, and leaves other views alone', async () => {
    const [a, b] = [await freshSink(), await freshSink()];
    await swapView(client, { table: userBehaviorEvents, generation: b.generation, view });
    await dropGeneration(client, a.generation, view);
    assert.equal(await liveGeneration(client, userBehaviorEvents, view), b.generation);
    await dropGeneration(client, b.generation, view);
    assert.equal(await liveGeneration(client, userBehaviorEvents, view), null);
    const left = await rows(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE ${sqlString(`%_v${b.generation}`)}`);
    assert.deepEqual(left, []);
    await Promise.all([a.sink.close(), b.sink.close()]);
  });

  test('the Generations port promotes the stable view, and drops any generation but the live one', async () => {
    const generations = clickhouseGenerations(projector);
    // the stable name may serve someone (a projector run by hand): put back what was there
    const before = await generations.live(process.env);
    const [a, b] = [await freshSink(), await freshSink()];
    try {
      await generations.promote(a.generation, process.env);
      assert.equal(await generations.live(process.env), a.generation);
      await b.sink.apply(ops(change('create', 1, 10, 'from b')), [{ topic: 'nova.user.user_interactions', partition: 0, nextOffset: '1', lsn: 10 }], noRejections);
      await generations.promote(b.generation, process.env);
      assert.deepEqual(await rows(`SELECT id, interaction_type FROM ${sqlIdentifier(userBehaviorEvents)}`), [{ id: '1', interaction_type: 'from b' }]);
      await assert.rejects(generations.drop(b.generation, process.env), /generation \d+ is live; promote another one first/);
      await generations.drop(a.generation, process.env);
      const left = await rows(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE ${sqlString(`%_v${a.generation}`)}`);
      assert.deepEqual(left, []);
    } finally {
      if (before !== undefined) await generations.promote(before, process.env);
      else await dropGeneration(client, b.generation);
      await Promise.all([a.sink.close(), b.sink.close()]);
    }
  });
});

test('checkpoints cleared (a mutation, in the background) are gone once it has run', async () => {
  const { generation, sink } = await freshSink();
  await sink.apply([], [{ topic: 'nova.user.user_interactions', partition: 2, nextOffset: '10', lsn: 1 }], noRejections);
  await clearCheckpoints(client, { projector, generation });
  await waitFor('the mutation to remove them', async () => ((await loadCheckpoints(client, { projector, generation })).length === 0 ? true : undefined), 30_000);
  await sink.close();
});
