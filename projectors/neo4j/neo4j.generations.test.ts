// Blue/green on the real server: two generations filled side by side, promoted in turn; the
// seed's friend-of-friend query on the live label answers from the promoted one only, and that
// label shows exactly the reader view (reader-view.ts) of the live generation.
//
// All of it in a reader namespace of this file's own (its label and live flag), so the seed's
// `User`, which the app reads, never moves: checked after every test.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import neo4j from 'neo4j-driver';
import type { CheckpointStore, Sink } from '../runtime/sink.ts';
import { ownReaderNamespace } from '../runtime/testing/own-namespace.ts';
import { connectNeo4j, createNeo4jSink, dropGeneration, liveLabel, neo4jGenerations, promote, readerGraph, userLabel, type GraphOp } from './index.ts';
import { readerView } from './reader-view.ts';
import { followUpsert, opsOf, userDelete, userUpsert } from './test/changes.ts';
import { friendsOfFriendsCypher } from './test/friends-of-friends.ts';
import { usersScope } from './test/oracle.ts';

ownReaderNamespace();
const readers = readerGraph(process.env);
const seedNames = { ...process.env, NOVA_READER_NAMESPACE: '' };
const driver = connectNeo4j(process.env);
const [blue, green] = [randomInt(3_000_000, 3_500_000), randomInt(3_500_000, 4_000_000)];
const base = 4_000_000_000_000 + randomInt(1_000_000) * 100;
const [me, friend, other, star, extra, loner] = [base, base + 1, base + 2, base + 3, base + 4, base + 5];
const sinks = new Map<number, Sink<GraphOp> & CheckpointStore>();
let seedLive: number | undefined;

const apply = (generation: number, ...changes: Parameters<typeof opsOf>) => sinks.get(generation)?.apply(opsOf(...changes), [], async () => {});
const promoteOurs = (generation: number) => promote(driver, generation, readers);

async function read(cypher: string, params: Record<string, unknown> = {}) {
  const session = driver.session();
  try {
    return (await session.run(cypher, params)).records.map((r) => r.toObject());
  } finally {
    await session.close();
  }
}
const recommendedFor = async (id: number) => (await read(friendsOfFriendsCypher(readers.label), { me: neo4j.int(id) })).map((r) => [r['recommended.id'], r['recommended.username']]);

before(async () => {
  seedLive = await neo4jGenerations.live(seedNames);
  for (const generation of [blue, green]) {
    sinks.set(generation, await createNeo4jSink({ driver: connectNeo4j(process.env), generation, projector: `generations-test-${generation}`, readers }));
  }
  const follow = (row: number, follower: number, followee: number, version: number) => followUpsert({ row, follower, followee }, 'active', version);
  const users = [me, friend, other, star, extra].map((id, i) => userUpsert(id, `user-${i}`, 10 + i));
  // blue: me -> friend -> star; green: me -> friend -> star <- other <- me, and other -> extra
  await apply(blue, ...users, follow(1, me, friend, 20), follow(2, friend, star, 21));
  await apply(green, ...users, follow(1, me, friend, 20), follow(2, friend, star, 21), follow(3, me, other, 22), follow(4, other, star, 23), follow(5, other, extra, 24));
});

afterEach(async () => {
  const [seedLabelled] = await read(`MATCH (u:${liveLabel}) WHERE u:${userLabel(blue)} OR u:${userLabel(green)} RETURN count(u) AS n`);
  assert.deepEqual({ live: await neo4jGenerations.live(seedNames), seedLabelled: seedLabelled?.['n'] }, { live: seedLive, seedLabelled: 0 }, 'the seed\'s `User` and live generation never moved');
});

after(async () => {
  for (const [generation, sink] of sinks) {
    await sink.close();
    await read(`MATCH (g:NovaGeneration {generation: $g}) REMOVE g.${readers.liveFlag}`, { g: neo4j.int(generation) });
    await dropGeneration(driver, generation, readers);
  }
  await read(`DROP INDEX ${readers.labelIndex} IF EXISTS`);
  await driver.close();
});

test('a shadow generation is invisible to readers until promoted; promoting moves the live label whole', async () => {
  assert.deepEqual(await recommendedFor(me), [], 'nothing is live in the namespace yet');
  await promoteOurs(blue);
  assert.equal(await neo4jGenerations.live(process.env), blue);
  assert.deepEqual(await recommendedFor(me), [[star, 'user-3']]);
  await promoteOurs(green);
  assert.equal(await neo4jGenerations.live(process.env), green);
  assert.deepEqual(await recommendedFor(me), [[star, 'user-3'], [extra, 'user-4']], 'star through two friends, extra through one');
  const [counts] = await read(`MATCH (u:${readers.label}) WHERE u.id >= $base AND u.id < $base + 100 RETURN count(u) AS live, sum(CASE WHEN u:${userLabel(green)} THEN 1 ELSE 0 END) AS green`, { base: neo4j.int(base) });
  assert.deepEqual(counts, { live: 5, green: 5 });
});

test('writes into the live generation label what they add, and unlabel what they delete', async () => {
  await promoteOurs(green);
  await apply(green, followUpsert({ row: 6, follower: loner, followee: me }, 'active', 30), userDelete(other, 31));
  const labelled = await read(`MATCH (u:${userLabel(green)}) WHERE u.id IN $ids RETURN u.id AS id, u:${readers.label} AS live ORDER BY id`, { ids: [loner, other].map((id) => neo4j.int(id)) });
  assert.deepEqual(labelled, [{ id: other, live: false }, { id: loner, live: true }]);
});

test('the live label shows exactly the reader view of the live generation: tombstones and the shadow generation left out', async () => {
  const scope = usersScope([me, friend, other, star, extra, loner]);
  await promoteOurs(blue);
  assert.deepEqual(await readerView(driver, 'live', scope, readers), await readerView(driver, blue, scope));
  await promoteOurs(green);
  const live = await readerView(driver, 'live', scope, readers);
  assert.deepEqual(live, await readerView(driver, green, scope));
  assert.notDeepEqual(live, await readerView(driver, blue, scope), 'the shadow generation looks different');
  assert.deepEqual([live.User.has(String(other)), live.User.get(String(loner))?.['username']], [false, null], 'a deleted user unseen, a bare endpoint seen without properties');
});

test('promoting a generation never filled, or dropping the live one, is refused', async () => {
  await promoteOurs(green);
  await assert.rejects(promoteOurs(4_500_000), /never been filled/);
  await assert.rejects(neo4jGenerations.drop(green, process.env), /is live/);
});
