// The Neo4j sink's graph rules against the real server, beyond the shared contract: a pair's
// rows arriving in any order (re-inserted with a new id on another partition, blocked and
// active again, a primary key moved), users deletes as tombstones, bare endpoints filled
// later, truncates and snapshot reads of follows, and failures classified by their code.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import neo4j from 'neo4j-driver';
import type { Change } from '../runtime/decode/index.ts';
import type { NovaError } from '../runtime/errors.ts';
import type { CheckpointStore, Sink } from '../runtime/sink.ts';
import { neo4jError } from './connection.ts';
import { connectNeo4j, createNeo4jSink, dropGeneration, neo4jProjector, userLabel, type GraphOp } from './index.ts';
import { followDelete, followRead, followUpsert, opsOf, truncate, userDelete, userUpsert } from './test/changes.ts';

const driver = connectNeo4j(process.env);
const generations: number[] = [];
const sinks: Array<Sink<GraphOp> & CheckpointStore> = [];

async function freshSink() {
  const generation = randomInt(2_000_000, 3_000_000);
  generations.push(generation);
  const sink = await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `sink-test-${generation}` });
  sinks.push(sink);
  return { generation, apply: (...changes: Change[]) => sink.apply(opsOf(...changes), [], async () => assert.fail('nothing is refused')) };
}

after(async () => {
  for (const sink of sinks) await sink.close();
  for (const generation of generations) await dropGeneration(driver, generation);
  await driver.close();
});

async function query(cypher: string, params: Record<string, unknown>) {
  const session = driver.session();
  try {
    return (await session.run(cypher, params)).records;
  } finally {
    await session.close();
  }
}

/** `FOLLOWS@version`, `FOLLOWS_TOMBSTONE@version`, or `none` for the pair. */
async function pairState(generation: number, follower: number, followee: number): Promise<string> {
  const L = userLabel(generation);
  const found = await query(`MATCH (:${L} {id: $a})-[r]->(:${L} {id: $b}) RETURN type(r) + '@' + toString(r.version) AS state`, { a: neo4j.int(follower), b: neo4j.int(followee) });
  return found.map((r) => r.get('state')).join(',') || 'none';
}

/** `absent`, `bare`, `tombstone@version` or `username@version`, and how many relationships it has. */
async function userState(generation: number, id: number): Promise<string> {
  const found = await query(
    `MATCH (u:${userLabel(generation)} {id: $id}) RETURN u.deleted AS deleted, u.username AS username, toString(u.version) AS version, COUNT { (u)--() } AS degree`,
    { id: neo4j.int(id) },
  );
  const record = found[0];
  if (!record) return 'absent';
  const version = record.get('version');
  const state = record.get('deleted') ? `tombstone@${version}` : version === null ? 'bare' : `${record.get('username')}@${version}`;
  return `${state} degree ${record.get('degree')}`;
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

describe('a pair of users', () => {
  let sink: Awaited<ReturnType<typeof freshSink>>;
  before(async () => (sink = await freshSink()));

  test('follow, block, unfollow, follow again with a new row on another partition: every arrival order ends FOLLOWS at the last version', async () => {
    let base = 0;
    for (const order of permutations([0, 1, 2, 3])) {
      base += 10;
      const [first, second] = [{ row: base, follower: base, followee: base + 1 }, { row: base + 1, follower: base, followee: base + 1 }];
      const changes = [followUpsert(first, 'active', 10), followUpsert(first, 'blocked', 20), followDelete(first, 30), followUpsert(second, 'active', 40, 3)];
      for (const i of order) await sink.apply(changes[i] as Change);
      assert.equal(await pairState(sink.generation, base, base + 1), 'FOLLOWS@40', `order ${order}`);
      assert.equal(await pairState(sink.generation, base + 1, base), 'none');
    }
  });

  test('blocked, muted and active again: the newest status wins; a replay of the older active does not restore it', async () => {
    const pair = { row: 900, follower: 900, followee: 901 };
    await sink.apply(followUpsert(pair, 'active', 10), followUpsert(pair, 'muted', 20));
    assert.equal(await pairState(sink.generation, 900, 901), 'FOLLOWS_TOMBSTONE@20');
    await sink.apply(followUpsert(pair, 'active', 10));
    assert.equal(await pairState(sink.generation, 900, 901), 'FOLLOWS_TOMBSTONE@20');
    await sink.apply(followUpsert(pair, 'active', 30));
    assert.equal(await pairState(sink.generation, 900, 901), 'FOLLOWS@30');
  });

  test('an update that moves a row to another pair ends the old pair', async () => {
    const pair = { row: 950, follower: 950, followee: 951 };
    await sink.apply(followUpsert(pair, 'active', 10));
    await sink.apply({ ...followUpsert({ ...pair, followee: 952 }, 'active', 20), before: { id: 950, follower_id: 950, followee_id: 951, status: 'active', created_at: null } });
    assert.deepEqual([await pairState(sink.generation, 950, 951), await pairState(sink.generation, 950, 952)], ['FOLLOWS_TOMBSTONE@20', 'FOLLOWS@20']);
  });

  test("every change of a row in one batch (batchChanges 'every-change'): moved on, changed, moved back: the newest op per pair wins", async () => {
    const row = { row: 960, follower: 960, followee: 961 };
    const moved = (from: number, to: number, status: string, version: number): Change => ({
      ...followUpsert({ ...row, followee: to }, status, version),
      before: { id: 960, follower_id: 960, followee_id: from, status: 'active', created_at: null },
    });
    await sink.apply(followUpsert(row, 'active', 10), moved(961, 962, 'active', 20), moved(962, 962, 'muted', 30), moved(962, 963, 'active', 40), moved(963, 961, 'active', 50));
    const states = [await pairState(sink.generation, 960, 961), await pairState(sink.generation, 960, 962), await pairState(sink.generation, 960, 963)];
    assert.deepEqual(states, ['FOLLOWS@50', 'FOLLOWS_TOMBSTONE@40', 'FOLLOWS_TOMBSTONE@50']);
  });

  // UPDATE follows SET id = 71 WHERE id = 70: Debezium's delete of row 70 and create of row 71,
  // one version (the update's LSN), two partitions
  test('a primary key moved: the delete of the old id and the create of the new one tie; the active create wins in either arrival order', async () => {
    let base = 2000;
    const arrivals: Array<[string, (moved: Change[]) => Change[][]]> = [
      ['delete first', ([gone, made]) => [[gone as Change], [made as Change]]],
      ['create first', ([gone, made]) => [[made as Change], [gone as Change]]],
      ['one batch, delete first', (moved) => [moved]],
      ['one batch, create first', (moved) => [[...moved].reverse()]],
    ];
    for (const [name, order] of arrivals) {
      base += 10;
      const [old, renumbered] = [{ row: base, follower: base, followee: base + 1 }, { row: base + 1, follower: base, followee: base + 1 }];
      await sink.apply(followUpsert(old, 'active', 10));
      const moved = [followDelete(old, 50, 1), { ...followUpsert(renumbered, 'active', 50, 2), op: 'create' as const, before: null }];
      for (const batch of order(moved)) await sink.apply(...batch);
      assert.equal(await pairState(sink.generation, base, base + 1), 'FOLLOWS@50', name);
      for (const batch of order(moved)) await sink.apply(...batch);
      assert.equal(await pairState(sink.generation, base, base + 1), 'FOLLOWS@50', `${name}, replayed`);
    }
  });

  // DELETE (unfollow, LSN 100) and a concurrent INSERT (follow again, a new row) of one pair: the
  // INSERT's heap record is written before it waits on the unique index, so it can carry the
  // lower LSN (95) although its transaction commits after the delete's (version.ts)
  test('an unfollow and a follow that race: the follow commits later with a lower LSN and still wins, in either arrival order', async () => {
    let base = 2200;
    for (const deleteFirst of [true, false]) {
      base += 10;
      const [old, again] = [{ row: base, follower: base, followee: base + 1 }, { row: base + 1, follower: base, followee: base + 1 }];
      await sink.apply(followUpsert(old, 'active', 10));
      const unfollow = { ...followDelete(old, 100, 1), commitOrder: 90n };
      const follow = { ...followUpsert(again, 'active', 95, 2), op: 'create' as const, before: null, commitOrder: 110n };
      for (const c of deleteFirst ? [unfollow, follow] : [follow, unfollow]) await sink.apply(c);
      assert.equal(await pairState(sink.generation, base, base + 1), 'FOLLOWS@95', deleteFirst ? 'delete first' : 'follow first');
    }
  });

  test('a primary key moved with the row muted: a tombstone either way; a later change still applies', async () => {
    const [old, renumbered] = [{ row: 2100, follower: 2100, followee: 2101 }, { row: 2101, follower: 2100, followee: 2101 }];
    await sink.apply(followUpsert(old, 'active', 10));
    await sink.apply({ ...followUpsert(renumbered, 'muted', 50, 2), op: 'create', before: null });
    await sink.apply(followDelete(old, 50, 1));
    assert.equal(await pairState(sink.generation, 2100, 2101), 'FOLLOWS_TOMBSTONE@50');
    await sink.apply(followUpsert(renumbered, 'active', 60, 2));
    assert.equal(await pairState(sink.generation, 2100, 2101), 'FOLLOWS@60');
  });

  test('a follow whose users rows have not arrived MERGEs bare nodes, filled when they do', async () => {
    await sink.apply(followUpsert({ row: 1000, follower: 1000, followee: 1001 }, 'active', 50));
    assert.deepEqual([await userState(sink.generation, 1000), await userState(sink.generation, 1001)], ['bare degree 1', 'bare degree 1']);
    await sink.apply(userUpsert(1000, 'ada', 5), userUpsert(1001, 'alan', 6, 4));
    assert.deepEqual([await userState(sink.generation, 1000), await userState(sink.generation, 1001)], ['ada@5 degree 1', 'alan@6 degree 1']);
  });
});

describe('a deleted user', () => {
  let sink: Awaited<ReturnType<typeof freshSink>>;
  before(async () => (sink = await freshSink()));

  test('every arrival order ends in a tombstone without relationships; older changes never revive it', async () => {
    let base = 0;
    for (const order of permutations([0, 1, 2, 3])) {
      base += 10;
      const pair = { row: base, follower: base, followee: base + 1 };
      // PostgreSQL's order: the user, their follow, the follow's delete, the user's delete
      const changes = [userUpsert(base, `u${base}`, 1), followUpsert(pair, 'active', 3, 2), followDelete(pair, 4, 2), userDelete(base, 5)];
      for (const i of order) await sink.apply(changes[i] as Change);
      assert.equal(await userState(sink.generation, base), 'tombstone@5 degree 0', `order ${order}`);
      await sink.apply(...changes.slice(0, 3));
      assert.equal(await userState(sink.generation, base), 'tombstone@5 degree 0', `replayed, order ${order}`);
    }
  });

  test('the same id inserted again later is a user again; follows from before the delete stay away', async () => {
    for (const change of [userUpsert(500, 'first', 1), userDelete(500, 5), userUpsert(500, 'second', 9)]) await sink.apply(change);
    assert.equal(await userState(sink.generation, 500), 'second@9 degree 0');
    await sink.apply(followUpsert({ row: 500, follower: 500, followee: 501 }, 'active', 3));
    assert.equal(await pairState(sink.generation, 500, 501), 'none');
  });
});

describe('truncates', () => {
  test('follows: older pairs go and stay gone; newer ones apply', async () => {
    const sink = await freshSink();
    await sink.apply(followUpsert({ row: 1, follower: 1, followee: 2 }, 'active', 10), followUpsert({ row: 2, follower: 2, followee: 3 }, 'blocked', 11), userUpsert(1, 'one', 5));
    await sink.apply(truncate('follows', 20));
    assert.deepEqual([await pairState(sink.generation, 1, 2), await pairState(sink.generation, 2, 3)], ['none', 'none']);
    await sink.apply(followUpsert({ row: 1, follower: 1, followee: 2 }, 'active', 10), followUpsert({ row: 3, follower: 3, followee: 1 }, 'active', 30));
    assert.deepEqual([await pairState(sink.generation, 1, 2), await pairState(sink.generation, 3, 1)], ['none', 'FOLLOWS@30']);
    assert.equal(await userState(sink.generation, 1), 'one@5 degree 1', 'users stay');
  });

  test('users (with follows): older nodes go; a newer follow keeps its endpoint bare; older changes are refused', async () => {
    const sink = await freshSink();
    await sink.apply(userUpsert(1, 'one', 5), userUpsert(2, 'two', 6), followUpsert({ row: 1, follower: 1, followee: 2 }, 'active', 10));
    // after the truncate (100), user 2 is inserted again (110) and followed (120); the follow arrives first
    await sink.apply(followUpsert({ row: 7, follower: 3, followee: 2 }, 'active', 120));
    await sink.apply(truncate('users', 100), truncate('follows', 100));
    assert.deepEqual([await userState(sink.generation, 1), await userState(sink.generation, 2)], ['absent', 'bare degree 1']);
    await sink.apply(userUpsert(1, 'one', 5), userUpsert(2, 'two again', 110), followUpsert({ row: 1, follower: 1, followee: 2 }, 'active', 10));
    assert.deepEqual([await userState(sink.generation, 1), await userState(sink.generation, 2), await pairState(sink.generation, 1, 2)], ['absent', 'two again@110 degree 1', 'none']);
  });

  test('follows snapshot reads take their place in commit order (a pair is not a row); a truncate removes and refuses those read before it, whatever the arrival order', async () => {
    const sink = await freshSink();
    const pair = (n: number) => ({ row: n, follower: n, followee: n + 1 });
    await sink.apply(followUpsert(pair(1), 'active', 100), followRead(pair(2), 'active', 300), followRead(pair(3), 'active', 400));
    // read later (commit order 450) as blocked: the state at 450 replaces what came before it
    await sink.apply(followRead(pair(1), 'blocked', 450), followRead(pair(2), 'blocked', 450));
    assert.deepEqual([await pairState(sink.generation, 1, 2), await pairState(sink.generation, 2, 3)], ['FOLLOWS_TOMBSTONE@0', 'FOLLOWS_TOMBSTONE@0']);
    // a read from before what the pair holds changes nothing
    await sink.apply(followRead(pair(1), 'active', 420));
    assert.equal(await pairState(sink.generation, 1, 2), 'FOLLOWS_TOMBSTONE@0');
    // the truncate commits at 500; a faster partition already brought a read from after it
    await sink.apply(followRead(pair(5), 'active', 600));
    await sink.apply(truncate('follows', 500));
    await sink.apply(followRead(pair(4), 'active', 400), followRead(pair(6), 'active', 700));
    const states = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => pairState(sink.generation, n, n + 1)));
    assert.deepEqual(states, ['none', 'none', 'none', 'none', 'FOLLOWS@0', 'FOLLOWS@0']);
  });
});

test('an unreachable server is a transient failure (the runtime retries it), not a crash', async () => {
  const unreachable = connectNeo4j({ ...process.env, NEO4J_URL: 'bolt://127.0.0.1:1' });
  try {
    await assert.rejects(createNeo4jSink({ driver: unreachable, generation: 2_999_999, projector: 'unreachable' }), (error: NovaError) => error.kind === 'transient' && error.code === 'NOVA_S1001');
  } finally {
    await unreachable.close();
  }
});

test('failures are classified by their code: a transaction past its timeout is bounded, a statement the server refuses fatal', async () => {
  const session = driver.session();
  try {
    // lazy, no memory: runs until the server's transaction monitor stops it
    const slow = session.run('UNWIND range(1, 10000000000) AS x WITH x WHERE x < 0 RETURN count(*)', {}, { timeout: 1 });
    await assert.rejects(slow, (error: unknown) => {
      const classified = neo4jError(error);
      return (error as { code: string }).code === 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration' && classified.kind === 'bounded' && classified.code === 'NOVA_S1003';
    });
    await assert.rejects(session.run('RETURN 1 +'), (error: unknown) => neo4jError(error).kind === 'fatal');
  } finally {
    await session.close();
  }
});

describe('sweeps: what a users delete or a truncate removes goes after the batch, in chunks', () => {
  const fanOut = 12_000; // more relationships than one chunk of a sweep (rowsPerTransaction, 10,000)
  const pendingUsers = async (generation: number) => Number((await query(`MATCH (u:${userLabel(generation)}:NovaPendingSweep) RETURN count(u) AS n`, {}))[0]?.get('n'));
  const pairCount = async (generation: number) => Number((await query(`MATCH (:${userLabel(generation)})-[r]->(:${userLabel(generation)}) RETURN count(r) AS n`, {}))[0]?.get('n'));

  /** A sink over a driver whose sweep statements (the chunked ones) fail while `cutOff` says so: a process killed after the batch committed. */
  async function sinkWithSweeps(generation: number, cutOff: { on: boolean }) {
    const real = connectNeo4j(process.env);
    const session = real.session.bind(real);
    real.session = (...args: Parameters<typeof real.session>) => {
      const opened = session(...args);
      const run = opened.run.bind(opened);
      opened.run = ((cypher: string, ...rest: unknown[]) => {
        if (cutOff.on && cypher.includes('IN TRANSACTIONS')) throw Object.assign(new Error('the process died here'), { code: 'Neo.TransientError.General.DatabaseUnavailable' });
        return (run as (c: string, ...r: unknown[]) => ReturnType<typeof run>)(cypher, ...rest);
      }) as typeof opened.run;
      return opened;
    };
    const sink = await createNeo4jSink({ driver: real, generation, projector: `sweep-test-${generation}` });
    sinks.push(sink);
    return sink;
  }

  test('a user followed by and following 12,000 others is deleted; a sweep cut off after the batch committed is finished by the next start', async () => {
    const generation = randomInt(2_000_000, 3_000_000);
    generations.push(generation);
    const cutOff = { on: false };
    const first = await sinkWithSweeps(generation, cutOff);
    const follows = Array.from({ length: fanOut }, (_, i) =>
      i % 2 === 0 ? followUpsert({ row: i + 1, follower: 1, followee: 100 + i }, 'active', 10 + i) : followUpsert({ row: i + 1, follower: 100 + i, followee: 1 }, 'active', 10 + i),
    );
    await first.apply(opsOf(userUpsert(1, 'one', 5), ...follows), [], async () => {});
    assert.equal(await userState(generation, 1), `one@5 degree ${fanOut}`);

    cutOff.on = true;
    const checkpoint = { topic: 'nova.public.users', partition: 0, nextOffset: '42', commitOrder: 100_000n };
    await assert.rejects(first.apply(opsOf(userDelete(1, 100_000)), [checkpoint], async () => {}), /the process died here/);
    assert.equal((await first.load()).find((c) => c.topic === 'nova.public.users')?.nextOffset, '42', 'the batch committed: the delete and its checkpoint');
    assert.equal(await userState(generation, 1), `tombstone@100000 degree ${fanOut}`, 'its relationships wait for the sweep');
    assert.equal(await pendingUsers(generation), 1);

    // inserted again and following someone after the delete, while the sweep is still cut off
    await first.apply(opsOf(userUpsert(1, 'one again', 200_000), followUpsert({ row: 999_999, follower: 1, followee: 5 }, 'active', 200_001)), [], async () => {});
    cutOff.on = false;
    await sinkWithSweeps(generation, cutOff); // the restart
    assert.deepEqual([await userState(generation, 1), await pendingUsers(generation), await pairCount(generation)], ['one again@200000 degree 1', 0, 1], 'only what was before the delete went');
  });

  test('a truncate of follows over 12,000 pairs: cut off after its batch, the writes already take the pairs before it as gone, and a later batch removes them', async () => {
    const generation = randomInt(2_000_000, 3_000_000);
    generations.push(generation);
    const cutOff = { on: false };
    const first = await sinkWithSweeps(generation, cutOff);
    const pair = (i: number) => ({ row: i + 1, follower: 1 + (i % 100), followee: 1000 + i });
    await first.apply(opsOf(...Array.from({ length: fanOut }, (_, i) => followUpsert(pair(i), 'active', 10 + i))), [], async () => {});
    cutOff.on = true;
    await assert.rejects(first.apply(opsOf(truncate('follows', 50_000)), [], async () => {}), /the process died here/);
    assert.equal(await pairCount(generation), fanOut, 'the truncate is recorded; its pairs wait for the sweep');
    // still cut off: a later change of a pair from before the truncate replaces it, one from before the truncate is refused
    await first.apply(opsOf(followUpsert(pair(0), 'blocked', 60_000), followUpsert(pair(1), 'blocked', 40_000)), [], async () => {});
    assert.deepEqual([await pairState(generation, 1, 1000), await pairState(generation, 2, 1001)], ['FOLLOWS_TOMBSTONE@60000', 'FOLLOWS@11'], 'the refused one left the unswept pair as it was');
    cutOff.on = false;
    await first.apply([], [], async () => {}); // any next batch finishes the earlier sweep
    assert.deepEqual([await pairState(generation, 1, 1000), await pairState(generation, 2, 1001), await pairCount(generation)], ['FOLLOWS_TOMBSTONE@60000', 'none', 1]);
  });

  test('a users truncate cut off after its batch: a user written after it replaces the unswept node whatever their versions, and the sweep keeps it', async () => {
    const generation = randomInt(2_000_000, 3_000_000);
    generations.push(generation);
    const cutOff = { on: false };
    const first = await sinkWithSweeps(generation, cutOff);
    await first.apply(opsOf(userUpsert(5, 'old', 80), userUpsert(6, 'gone', 81)), [], async () => {});
    cutOff.on = true;
    await assert.rejects(first.apply(opsOf(truncate('users', 100)), [], async () => {}), /the process died here/);
    // inserted after the truncate by a transaction that committed later (200) but wrote earlier in the WAL (version 70)
    const reinserted: Change = { ...userUpsert(5, 'new', 70), commitOrder: 200n };
    await first.apply(opsOf(reinserted), [], async () => {}); // the earlier sweep fails again, quietly: this batch is not at fault
    assert.deepEqual([await userState(generation, 5), await userState(generation, 6)], ['new@70 degree 0', 'gone@81 degree 0'], 'written over the node the sweep has not reached');
    cutOff.on = false;
    await sinkWithSweeps(generation, cutOff);
    assert.deepEqual([await userState(generation, 5), await userState(generation, 6)], ['new@70 degree 0', 'absent']);
  });
});

test('tombstones below the horizon are collected (FOLLOWS_TOMBSTONE by the follows topic, deleted users by the lower of both); those above stay and still refuse', async () => {
  const sink = await freshSink();
  const pair = (n: number) => ({ row: n, follower: n, followee: n + 1 });
  await sink.apply(userUpsert(1, 'one', 5), userUpsert(3, 'three', 6), followUpsert(pair(10), 'active', 10), followUpsert(pair(20), 'active', 20));
  await sink.apply(followDelete(pair(10), 100), followDelete(pair(20), 300), userDelete(1, 110), userDelete(3, 310));
  const horizons: Record<string, bigint> = { 'nova.social.follows': 200n, 'nova.social.users': 400n };
  const collected = await neo4jProjector.collectTombstones?.({ generation: sink.generation, env: process.env, horizon: (topic) => horizons[topic] ?? 0n });
  assert.deepEqual(collected, { FOLLOWS_TOMBSTONE: 1, 'deleted users': 1 }, 'the unfollow at 100 and user 1 (deleted at 110, below both horizons); not user 3 (310 is above the follows topic\'s 200)');
  assert.deepEqual([await pairState(sink.generation, 10, 11), await pairState(sink.generation, 20, 21)], ['none', 'FOLLOWS_TOMBSTONE@300']);
  assert.deepEqual([await userState(sink.generation, 1), await userState(sink.generation, 3)], ['absent', 'tombstone@310 degree 0']);
  await sink.apply(followUpsert(pair(20), 'active', 250), userUpsert(3, 'three', 305));
  assert.deepEqual([await pairState(sink.generation, 20, 21), await userState(sink.generation, 3)], ['FOLLOWS_TOMBSTONE@300', 'tombstone@310 degree 0'], 'the kept ones still refuse older changes');
});
