// The ClickHouse-specific behaviour behind the sink contract, against the real server: deletes
// and truncates in the current state, replays collapsing on disk, the newest checkpoint per
// partition, a refused row dead-lettered alone, and the generation seam (view swap, drop).
// Promotion is tested on a view of this file's own: the stable name, which readers may be
// reading, is never pointed at this file's generations (checked at the end; other processes
// may promote on it meanwhile).
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
  const stable = await liveGeneration(client, userBehaviorEvents);
  // one the stable view reads is left in place: dropping it would leave that view dangling
  for (const generation of used.filter((generation) => generation !== stable)) {
    await dropGeneration(client, generation, view);
    await clearCheckpoints(client, { projector, generation });
  }
  await client.close();
  assert.ok(stable === null || !used.includes(stable), `the stable view reads generation ${stable}, one of this file's own`);
});

async function freshSink() {
  const generation = randomInt(100_000_000, 1_000_000_000);
  used.push(generation);
  await ensureGeneration(client, generation, { shadow: true });
  return { generation, sink: createClickhouseSink({ client: clickhouseClient(process.env), generation, projector }) };
}

let offset = 0;
/** A change of row `id` at `version`, committed at `commitOrder` (default: the version; a snapshot read's version is 0). */
function change(op: Operation, id: number | null, version: bigint, interaction_type = 'view', commitOrder = version): Change {
  const after = op === 'delete' || op === 'truncate' ? null : { id, user_id: 3, target_type: 'post', target_id: 9, interaction_type, interaction_value: 0.5, metadata: null, created_at: new Date(1_700_000_000_000) };
  return {
    kind: 'change', op, table: 'public.user_interactions', key: id === null ? null : { id }, before: null, after, version, commitOrder, streamSince: 0, txId: null, commitTs: new Date(1_700_000_000_000),
    position: { topic: 'nova.user.user_interactions', partition: 1, offset: String(++offset) },
  };
}
const checkpoint = (partition: number, nextOffset: string, commitOrder: bigint | null) => ({ topic: 'nova.user.user_interactions', partition, nextOffset, commitOrder });
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
    await sink.apply(ops(change('create', 1, 10n), change('create', 2, 11n)), [], noRejections);
    await sink.apply(ops(change('delete', 1, 20n)), [], noRejections);
    // an older version of the deleted row, inserted late (a replay), and a snapshot read of it: still hidden
    await sink.apply(ops(change('update', 1, 15n, 'like'), change('read', 1, 0n, 'read', 30n)), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['2:view']);
    await client.command({ query: `OPTIMIZE TABLE ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} FINAL` });
    assert.deepEqual(await idsAndTypes(generation), ['2:view']);
    await sink.close();
  });

  test('a truncate hides every row before it in commit order, also one applied after it (another partition), but not later ones', async () => {
    const { generation, sink } = await freshSink();
    await sink.apply(ops(change('create', 1, 10n), change('read', 2, 0n), change('read', 5, 0n, 'view', 25n)), [], noRejections);
    await sink.apply(ops(change('truncate', null, 30n), change('create', 4, 40n), change('read', 6, 0n, 'read', 35n)), [], noRejections);
    await sink.apply(ops(change('update', 3, 25n)), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['4:view', '6:read']);
    // an older truncate applied late changes nothing: the newest one removed all it did
    await sink.apply(ops(change('truncate', null, 5n)), [], noRejections);
    // the same changes again, in another order: the same state
    await sink.apply(ops(change('create', 4, 40n), change('update', 3, 25n), change('truncate', null, 30n), change('create', 2, 20n)), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['4:view', '6:read']);
    await sink.close();
  });

  // issue 8 item 3: rows filled by snapshot reads alone (a topic cut by retention) were invisible
  test('rows filled by snapshot reads alone are what readers see, with no truncate', async () => {
    const { generation, sink } = await freshSink();
    await sink.apply(ops(change('read', 1, 0n, 'view', 0n), change('read', 2, 0n, 'like', 700n)), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['1:view', '2:like']);
    await sink.close();
  });

  test('versions and commit orders past 2^53 are kept exactly: 2^53 + 2 beats 2^53 + 1', async () => {
    const { generation, sink } = await freshSink();
    const epoch1 = 1n << 56n;
    // both round to the same double: stored as JSON numbers they would tie
    await sink.apply(ops(change('update', 1, epoch1 + 2n, 'newer'), change('truncate', null, epoch1 + 1n)), [], noRejections);
    await sink.apply(ops(change('update', 1, epoch1 + 1n, 'older'), change('update', 2, epoch1, 'truncated')), [], noRejections);
    assert.deepEqual(await idsAndTypes(generation), ['1:newer']);
    await sink.close();
  });

  test('a batch applied three times collapses on disk to one row per id', async () => {
    const { generation, sink } = await freshSink();
    const batch = ops(change('create', 1, 10n), change('update', 1, 12n, 'like'), change('create', 2, 11n), change('delete', 2, 13n));
    for (let i = 0; i < 3; i++) await sink.apply(batch, [], noRejections);
    const table = sqlIdentifier(generationTable(userBehaviorEvents, generation));
    const raw = () => rows<{ id: string; version: string; is_deleted: number }>(`SELECT id, version, is_deleted FROM ${table} ORDER BY id`);
    // a background merge may hold the parts for a moment: OPTIMIZE again until it has run
    const merged = await waitFor('OPTIMIZE FINAL to merge the parts', async () => {
      await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
      const found = await raw();
      return found.length === 2 ? found : undefined;
    }, 30_000);
    assert.deepEqual(merged, [{ id: '1', version: '12', is_deleted: 0 }, { id: '2', version: '13', is_deleted: 1 }]);
    await sink.close();
  });
});

describe('sink', () => {
  test('a row the server refuses is dead-lettered alone; the rest of the batch and the checkpoint are written', async () => {
    const { generation, sink } = await freshSink();
    const good = ops(change('create', 1, 10n), change('create', 3, 12n));
    const [bad] = ops(change('create', 2, 11n));
    // something no mapping produces: an object where ClickHouse expects a String
    const refused: StoreOp<ClickhouseOp> = { ...bad!, op: { ...bad!.op, row: { ...(bad!.op as Extract<ClickhouseOp, { kind: 'row' }>).row, target_type: { not: 'a string' } } } as ClickhouseOp };
    const rejected: Rejected[] = [];
    await sink.apply([good[0]!, refused, good[1]!], [checkpoint(1, '99', 12n)], async (r) => void rejected.push(...r));
    assert.deepEqual(rejected.map((r) => r.position), [refused.change.position]);
    assert.match(rejected[0]?.reason ?? '', /Code: 26.*target_type/s);
    assert.deepEqual(await idsAndTypes(generation), ['1:view', '3:view']);
    assert.deepEqual(await sink.load(), [checkpoint(1, '99', 12n)]);
    await sink.close();
  });

  test('load() returns the newest checkpoint per partition before any merge, and a NULL commit order as null', async () => {
    const { sink } = await freshSink();
    for (const [offset, commitOrder] of [['5', 50n], ['9007199254740993', (3n << 56n) + 1n], ['7', 60n]] as const) await sink.apply([], [checkpoint(0, offset, commitOrder)], noRejections);
    await sink.apply([], [checkpoint(1, '3', 30n)], noRejections);
    await sink.apply([], [checkpoint(1, '4', null)], noRejections);
    const loaded = (await sink.load()).sort((a, b) => a.partition - b.partition);
    assert.deepEqual(loaded, [checkpoint(0, '9007199254740993', (3n << 56n) + 1n), checkpoint(1, '4', null)]);
    await sink.close();
  });
});

describe('generation seam', () => {
  test('swapView points the stable name at a generation in one step; readers never see it missing', async () => {
    const [a, b] = [await freshSink(), await freshSink()];
    await a.sink.apply(ops(change('create', 1, 10n, 'from a')), [], noRejections);
    await b.sink.apply(ops(change('create', 1, 10n, 'from b'), change('create', 2, 11n, 'from b')), [], noRejections);
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

  test('the Generations port promotes the view, and drops any generation but the live one', async () => {
    const generations = clickhouseGenerations(projector, { view });
    const [a, b] = [await freshSink(), await freshSink()];
    await generations.promote(a.generation, process.env);
    assert.equal(await generations.live(process.env), a.generation);
    // filled by a snapshot read alone, as `rebuild --snapshot` fills a topic cut by retention
    await b.sink.apply(ops(change('read', 1, 0n, 'from b')), [checkpoint(0, '1', 0n)], noRejections);
    await generations.promote(b.generation, process.env);
    assert.deepEqual(await rows(`SELECT id, interaction_type FROM ${sqlIdentifier(view)}`), [{ id: '1', interaction_type: 'from b' }]);
    await assert.rejects(generations.drop(b.generation, process.env), /generation \d+ is live; promote another one first/);
    await a.sink.apply([], [checkpoint(0, '5', 1n)], noRejections);
    await generations.drop(a.generation, process.env);
    const left = await rows(`SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE ${sqlString(`%_v${a.generation}`)}`);
    assert.deepEqual(left, []);
    // gone when drop returns: a rebuild of the same generation started next begins at the earliest offset
    assert.deepEqual(await loadCheckpoints(client, { projector, generation: a.generation }), []);
    await Promise.all([a.sink.close(), b.sink.close()]);
  });
});

test('clearCheckpoints returns once the checkpoints in its scope are gone, and only those', async () => {
  const [{ generation, sink }, other] = [await freshSink(), await freshSink()];
  await sink.apply([], [checkpoint(2, '10', 1n)], noRejections);
  await other.sink.apply([], [checkpoint(2, '11', 1n)], noRejections);
  await clearCheckpoints(client, { projector, generation });
  assert.deepEqual(await loadCheckpoints(client, { projector, generation }), []);
  assert.deepEqual(await other.sink.load(), [checkpoint(2, '11', 1n)]);
  await Promise.all([sink.close(), other.sink.close()]);
});
