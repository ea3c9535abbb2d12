// The API over HTTP against the real stack (testing/api-under-test.ts: the API in this process,
// the Redis and Neo4j projectors as processes, a reader namespace of this file's own): the
// follow graph, posts, notifications, read-your-writes, idempotency, authentication, bad input.
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { mintToken } from './http/auth.ts';
import { apiUnderTest } from './testing/api-under-test.ts';
import { waitFor } from '../scripts/stack.d/test/stack.ts';

const harness = apiUnderTest(['redis', 'neo4j']);
const { db, jwt, call, newUser } = harness;
const after_ = harness.readAfter;

before(async () => {
  // both projectors have replayed the topics: a write's token is applied in both views
  const probe = await newUser('probe');
  const written = await call('POST', `/users/${probe.id}/mute`, { as: (await newUser('probe')).token });
  await waitFor(
    'the projectors to catch up',
    async () => {
      const [r, n] = await Promise.all([
        call('GET', '/notifications', { as: probe.token, headers: after_(written) }),
        call('GET', '/suggestions', { as: probe.token, headers: after_(written) }),
      ]);
      return r.headers.get('nova-consistency')?.startsWith('applied') && n.status === 200 ? true : undefined;
    },
    400_000,
  );
});

describe('features, each written through the API and read back with its token', () => {
  test('a follow: the follower set, both counters and a follow notification', async () => {
    const [ann, ben] = [await newUser('ann'), await newUser('ben')];
    const followed = await call('POST', `/users/${ann.id}/follow`, { as: ben.token });
    assert.deepEqual([followed.status, followed.body], [200, { user_id: ann.id, new: true }]);
    const again = await call('POST', `/users/${ann.id}/follow`, { as: ben.token });
    assert.deepEqual(again.body, { user_id: ann.id, new: false }, 'following again changes nothing');
    const followers = await call('GET', `/users/${ann.id}/followers`, { as: ben.token, headers: after_(followed) });
    assert.deepEqual([followers.body.items, followers.body.count], [[ben.id], 1]);
    const following = await call('GET', `/users/${ben.id}/following`, { as: ann.token, headers: after_(followed) });
    assert.deepEqual([following.body.items, following.body.count], [[ann.id], 1]);
    const notes = await call('GET', '/notifications', { as: ann.token, headers: after_(followed) });
    assert.match(notes.headers.get('nova-consistency') ?? '', /^applied/);
    assert.deepEqual(notes.body.items.map((n: any) => [n.type, n.actor_id]), [['follow', ben.id]]);
    const unread = await call('GET', '/notifications/unread-count', { as: ann.token, headers: after_(followed) });
    assert.deepEqual(unread.body, { unread: 1 });

    const muted = await call('POST', `/users/${ann.id}/mute`, { as: ben.token });
    const afterMute = await call('GET', `/users/${ann.id}/followers`, { as: ben.token, headers: after_(muted) });
    assert.deepEqual([afterMute.body.items, afterMute.body.count], [[], 0], 'a muted follow no longer counts');
  });

  test('a block ends their follow and refuses a new one', async () => {
    const [ann, ben] = [await newUser('ann'), await newUser('ben')];
    await call('POST', `/users/${ann.id}/follow`, { as: ben.token });
    const blocked = await call('POST', `/users/${ben.id}/block`, { as: ann.token });
    assert.equal(blocked.status, 200);
    const followers = await call('GET', `/users/${ann.id}/followers`, { as: ann.token, headers: after_(blocked) });
    assert.deepEqual([followers.body.items, followers.body.count], [[], 0]);
    assert.equal((await call('POST', `/users/${ann.id}/follow`, { as: ben.token })).status, 404);
    assert.equal((await call('POST', `/users/${ann.id}/mute`, { as: ben.token })).status, 200);
    assert.equal((await call('POST', `/users/${ann.id}/follow`, { as: ben.token })).status, 404, 'muting them does not lift their block');
    const { rows } = await db.query('SELECT status FROM follows WHERE follower_id = $1 AND followee_id = $2', [ben.id, ann.id]);
    assert.deepEqual(rows, [{ status: 'blocked' }]);
  });

  test('follows both ways at once: every one lands, both counters right (no deadlock)', async () => {
    const pairs = await Promise.all(Array.from({ length: 10 }, async () => [await newUser('ann'), await newUser('ben')] as const));
    const replies = await Promise.all(pairs.flatMap(([a, b]) => [call('POST', `/users/${b.id}/follow`, { as: a.token }), call('POST', `/users/${a.id}/follow`, { as: b.token })]));
    assert.deepEqual(replies.map((r) => r.status), replies.map(() => 200), JSON.stringify(replies.find((r) => r.status !== 200)?.body));
    const ids = pairs.flat().map((u) => u.id);
    const { rows } = await db.query('SELECT follower_count::int AS f, following_count::int AS g FROM user_stats WHERE user_id = ANY($1::bigint[])', [ids]);
    assert.deepEqual(rows, ids.map(() => ({ f: 1, g: 1 })));
  });

  test('likes, comments and mentions notify the right people, never the actor, never a disabled type', async () => {
    const [author, fan, named, quiet] = [await newUser('author'), await newUser('fan'), await newUser('named'), await newUser('quiet')];
    const disabled = await call('PUT', '/notification-settings', { as: quiet.token, body: { push_enabled: true, email_enabled: false, types_disabled: ['mention'] } });
    assert.equal(disabled.status, 200);
    const post = await call('POST', '/posts', { as: author.token, body: { text: 'first post' } });
    assert.equal(post.status, 201);
    const postId = post.body.id;
    assert.deepEqual((await call('POST', `/posts/${postId}/likes`, { as: fan.token })).body, { post_id: postId, liked: true, new: true });
    assert.equal((await call('POST', `/posts/${postId}/likes`, { as: fan.token })).body.new, false, 'a second like is no like');
    await call('POST', `/posts/${postId}/likes`, { as: author.token }); // their own: no notification
    const commented = await call('POST', `/posts/${postId}/comments`, { as: fan.token, body: { text: `@${named.username} and @${quiet.username} and @nobody_here_${randomInt(1e9)} see this` } });
    assert.equal(commented.status, 201, JSON.stringify(commented.body));
    assert.deepEqual(commented.body.mentioned.sort(), [named.id, quiet.id].sort(), 'only existing users are mentions');

    const authorNotes = await call('GET', '/notifications', { as: author.token, headers: after_(commented) });
    assert.deepEqual(authorNotes.body.items.map((n: any) => [n.type, n.actor_id]), [['comment', fan.id], ['like', fan.id]]);
    const namedNotes = await call('GET', '/notifications', { as: named.token, headers: after_(commented) });
    assert.deepEqual(namedNotes.body.items.map((n: any) => [n.type, n.target_type]), [['mention', 'comment']]);
    const quietNotes = await call('GET', '/notifications', { as: quiet.token, headers: after_(commented) });
    assert.deepEqual(quietNotes.body.items, [], 'mentions disabled');
    const profile = await call('GET', `/users/${author.id}`, { as: fan.token });
    assert.equal(profile.body.post_count, 1);
  });

  test('marking read: one, then all; someone else\'s notification is not found', async () => {
    const [ann, ben, cat] = [await newUser('ann'), await newUser('ben'), await newUser('cat')];
    await call('POST', `/users/${ann.id}/follow`, { as: ben.token });
    const second = await call('POST', `/users/${ann.id}/follow`, { as: cat.token });
    const notes = await call('GET', '/notifications', { as: ann.token, headers: after_(second) });
    const [newest, older] = notes.body.items;
    assert.equal((await call('POST', `/notifications/${newest.id}/read`, { as: ben.token })).status, 404, 'not ben\'s');
    const one = await call('POST', `/notifications/${newest.id}/read`, { as: ann.token });
    assert.equal(one.status, 200);
    assert.deepEqual((await call('GET', '/notifications/unread-count', { as: ann.token, headers: after_(one) })).body, { unread: 1 });
    const all = await call('POST', '/notifications/read-all', { as: ann.token });
    assert.deepEqual(all.body, { marked: 1 });
    assert.deepEqual((await call('GET', '/notifications/unread-count', { as: ann.token, headers: after_(all) })).body, { unread: 0 });
    assert.ok(older);
  });

  test('suggestions: friends of friends from the graph, waited for with a token', async () => {
    const [me, friend, star] = [await newUser('me'), await newUser('friend'), await newUser('star')];
    await call('POST', `/users/${friend.id}/follow`, { as: me.token });
    const last = await call('POST', `/users/${star.id}/follow`, { as: friend.token });
    const suggested = await call('GET', '/suggestions', { as: me.token, headers: after_(last) });
    assert.deepEqual([suggested.status, suggested.body.items], [200, [{ id: star.id, username: star.username }]]);
    const cached = await call('GET', '/suggestions', { as: me.token });
    assert.deepEqual([cached.headers.get('nova-served-by'), cached.body.items], ['cache', suggested.body.items]);
  });
});

test('read-your-writes: 200 write-then-read pairs with tokens never see the state before the write', async (t) => {
  const author = await newUser('busy');
  const fans = await Promise.all(Array.from({ length: 10 }, () => newUser('fan')));
  const post = (await call('POST', '/posts', { as: author.token, body: { text: 'popular' } })).body.id;
  const waits: number[] = [];
  for (let round = 0; round < 20; round++) {
    await Promise.all(
      fans.map(async (fan, i) => {
        const wrote = await call('POST', `/posts/${post}/comments`, { as: fan.token, body: { text: `comment ${round}.${i}` } });
        const read = await call('GET', '/notifications', { as: author.token, headers: { ...after_(wrote), 'nova-max-wait-ms': '5000' } });
        const consistency = read.headers.get('nova-consistency') ?? '';
        assert.match(consistency, /^applied/, 'the views applied the write within 5 s');
        waits.push(Number(/waited-ms=(\d+)/.exec(consistency)?.[1]));
        const ids = new Set(read.body.items.map((n: any) => n.content?.comment_id));
        assert.ok(ids.has(wrote.body.id), `the read shows comment ${wrote.body.id}`);
      }),
    );
  }
  waits.sort((a, b) => a - b);
  t.diagnostic(`token waits over ${waits.length} reads: p50 ${waits[Math.floor(waits.length / 2)]} ms, max ${waits.at(-1)} ms`);
});

test('with the Redis projector stopped, a tokened read ends at its bound and says so; without a token it answers at once', async () => {
  const [ann, ben] = [await newUser('ann'), await newUser('ben')];
  await harness.stop('redis');
  try {
    const followed = await call('POST', `/users/${ann.id}/follow`, { as: ben.token });
    const started = Date.now();
    const stale = await call('GET', '/notifications', { as: ann.token, headers: { 'nova-read-after': followed.headers.get('nova-consistency-token')!, 'nova-max-wait-ms': '800' } });
    const waited = Date.now() - started;
    assert.equal(stale.status, 200);
    assert.match(stale.headers.get('nova-consistency') ?? '', /^stale; lagging=redis/);
    assert.ok(waited >= 800, `waited ${waited} ms`);
    const count = await call('GET', '/notifications/unread-count', { as: ann.token, headers: { 'nova-read-after': followed.headers.get('nova-consistency-token')!, 'nova-max-wait-ms': '300' } });
    assert.deepEqual([count.status, count.body.type], [503, 'https://nova.dev/problems/view-lagging']);
    assert.equal(count.headers.get('retry-after'), '1');
    const untokened = await call('GET', '/notifications', { as: ann.token });
    assert.deepEqual([untokened.status, untokened.headers.get('nova-consistency')], [200, null]);
  } finally {
    harness.start('redis');
  }
});

test('an Idempotency-Key retried 5 times, and sent 5 times at once, creates one row', async () => {
  const author = await newUser('idem');
  const rows = async () => Number((await db.query('SELECT count(*) AS n FROM posts WHERE author_id = $1', [author.id])).rows[0].n);
  const key = randomUUID();
  const send = () => call('POST', '/posts', { as: author.token, body: { text: 'once' }, headers: { 'idempotency-key': key } });
  const first = await send();
  for (let i = 0; i < 4; i++) {
    const retry = await send();
    assert.deepEqual([retry.status, retry.body, retry.headers.get('idempotent-replayed')], [201, first.body, 'true']);
    assert.ok(retry.headers.get('nova-consistency-token'));
  }
  const concurrentKey = randomUUID();
  const together = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/posts', { as: author.token, body: { text: 'together' }, headers: { 'idempotency-key': concurrentKey } })));
  assert.deepEqual(new Set(together.map((r) => r.body.id)).size, 1);
  assert.equal(await rows(), 2);
  const reused = await call('POST', '/posts', { as: author.token, body: { text: 'something else' }, headers: { 'idempotency-key': key } });
  assert.deepEqual([reused.status, reused.body.type], [422, 'https://nova.dev/problems/idempotency-key-reused']);
  assert.equal(await rows(), 2);
});

test('authentication: every route but health and docs needs a valid token', async () => {
  const ann = await newUser('ann');
  const otherSecret = { ...jwt, secret: new TextEncoder().encode('x'.repeat(40)) } as typeof jwt;
  const expired = await mintToken(jwt, { userId: ann.id }, 1);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  for (const [what, headers] of [
    ['no token', {}],
    ['not a bearer', { authorization: 'Basic abc' }],
    ['garbage', { authorization: 'Bearer not.a.jwt' }],
    ['another secret', { authorization: `Bearer ${await mintToken(otherSecret, { userId: ann.id })}` }],
    ['expired', { authorization: `Bearer ${expired}` }],
    ['no expiry', { authorization: `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(ann.id).setIssuer(jwt.issuer).setAudience(jwt.audience).sign((jwt as { secret: Uint8Array }).secret)}` }],
    ['unsigned (alg none)', { authorization: `Bearer ${new UnsecuredJWT({}).setSubject(ann.id).setIssuer(jwt.issuer).setAudience(jwt.audience).setExpirationTime('1h').encode()}` }],
  ] as const) {
    for (const [method, path] of [['GET', '/notifications'], ['POST', '/posts'], ['GET', `/users/${ann.id}`], ['GET', '/suggestions']] as const) {
      const reply = await call(method, path, { headers, body: method === 'POST' ? { text: 'x' } : undefined });
      assert.deepEqual([reply.status, reply.body.type], [401, 'https://nova.dev/problems/unauthorized'], `${what}: ${method} ${path}`);
    }
  }
  for (const open of ['/healthz', '/metrics', '/openapi.json']) assert.equal((await call('GET', open)).status, 200, open);
  // this file's namespace has no search or analytics view, so readiness says 503, and names them: without a token
  const ready = await call('GET', '/readyz');
  assert.deepEqual([ready.status, ready.body.checks?.postgresql, ready.body.checks?.redis], [503, 'ok', 'ok'], JSON.stringify(ready.body));
  const spec = (await call('GET', '/openapi.json')).body;
  assert.equal(spec.openapi, '3.1.0');
  assert.ok(spec.paths['/notifications'] && spec.paths['/users/{id}/follow'].delete, 'the routes are described');
});

test('bad input: 40+ requests, each a 4xx problem naming what is wrong, nothing written, no 5xx', async () => {
  const [ann, ben] = [await newUser('ann'), await newUser('ben')];
  const post = (await call('POST', '/posts', { as: ann.token, body: { text: 'target' } })).body.id;
  const tables = ['users', 'posts', 'comments', 'follows', 'notifications', 'user_interactions', 'notification_settings', 'api_idempotency'];
  const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, Number((await db.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n)])));
  const injections = [`'; DROP TABLE posts; --`, `" OR 1=1 --`, `MATCH (n) DETACH DELETE n`, `{"query":{"match_all":{}}}`, `') OR ('1'='1`, '\\x00'];
  const cases: Array<[string, string, { body?: unknown; raw?: string; headers?: Record<string, string>; as?: string }, number]> = [
    ['POST', '/posts', { raw: '{not json' }, 400],
    ['POST', '/posts', { body: {} }, 400],
    ['POST', '/posts', { body: { text: '' } }, 400],
    ['POST', '/posts', { body: { text: 42 } }, 400],
    ['POST', '/posts', { body: { text: 'x'.repeat(10_001) } }, 400],
    ['POST', '/posts', { body: { text: 'ok', extra: true } }, 400],
    ['POST', '/posts', { raw: JSON.stringify({ text: 'x'.repeat(70_000) }) }, 413],
    ['POST', '/posts', { body: ['text'] }, 400],
    ['POST', '/posts', { body: null }, 400],
    ['POST', '/posts', { body: { text: 'ok' }, headers: { 'idempotency-key': '' } }, 400],
    ['POST', '/posts', { body: { text: 'ok' }, headers: { 'idempotency-key': 'k'.repeat(256) } }, 400],
    ['POST', '/posts', { body: { text: 'ok' }, headers: { 'idempotency-key': 'with space' } }, 400],
    ['POST', '/users', { body: { username: 'valid_user_x' } }, 404], // a user token may not create users
    ['POST', '/users', { as: 'service', body: { username: 'ab' } }, 400],
    ['POST', '/users', { as: 'service', body: { username: 'has space' } }, 400],
    ['POST', '/users', { as: 'service', body: { username: 'a'.repeat(51) } }, 400],
    ['POST', '/users', { as: 'service', body: { username: 'valid_name', avatar_url: 'javascript:alert(1)' } }, 400],
    ['POST', '/users', { as: 'service', body: { username: 'valid_name', bio: 7 } }, 400],
    ['POST', '/users', { as: 'service', body: { username: ann.username } }, 409],
    ['POST', '/users/0/follow', {}, 400],
    ['POST', '/users/-1/follow', {}, 400],
    ['POST', '/users/abc/follow', {}, 400],
    ['POST', '/users/9223372036854775808/follow', {}, 400],
    ['POST', '/users/99999999999999999999/follow', {}, 400],
    ['POST', '/users/9223372036854775807/follow', {}, 404],
    ['POST', `/users/${ben.id}/follow`, {}, 400], // oneself
    ['POST', '/posts/9223372036854775807/likes', {}, 404],
    ['POST', '/posts/1.5/likes', {}, 400],
    ['POST', `/posts/${post}/comments`, { body: { text: '' } }, 400],
    ['POST', `/posts/${post}/comments`, { body: { txt: 'typo' } }, 400],
    ['POST', '/notifications/9223372036854775807/read', {}, 404],
    ['POST', '/notifications/0x10/read', {}, 400],
    ['PUT', '/notification-settings', { body: { push_enabled: 'yes', email_enabled: true, types_disabled: [] } }, 400],
    ['PUT', '/notification-settings', { body: { push_enabled: true, email_enabled: true, types_disabled: ['spam'] } }, 400],
    ['PUT', '/notification-settings', { body: { push_enabled: true } }, 400],
    ['GET', '/notifications?limit=0', {}, 400],
    ['GET', '/notifications?limit=101', {}, 400],
    ['GET', '/notifications?limit=ten', {}, 400],
    ['GET', '/notifications?cursor=not-a-cursor', {}, 400],
    ['GET', `/notifications?cursor=${Buffer.from('{"before":"1; DROP TABLE x"}').toString('base64url')}`, {}, 400],
    ['GET', `/users/${ann.id}/followers?cursor=${Buffer.from('{"scan":"-1"}').toString('base64url')}`, {}, 400],
    ['GET', `/users/${ann.id}/followers?cursor=${Buffer.from('{"scan":"18446744073709551616"}').toString('base64url')}`, {}, 400],
    ['POST', '/posts', { body: { text: 'nul \u0000 inside' } }, 400],
    ['POST', `/posts/${post}/comments`, { body: { text: '\u0000' } }, 400],
    ['POST', '/users', { as: 'service', body: { username: 'valid_name', bio: 'a\u0000b' } }, 400],
    ['GET', '/notifications', { headers: { 'nova-read-after': 'garbage' } }, 400],
    ['GET', '/notifications', { headers: { 'nova-read-after': '1.zz' } }, 400],
    ['GET', '/notifications', { headers: { 'nova-read-after': '1.1', 'nova-max-wait-ms': '-5' } }, 400],
    ['GET', '/notifications', { headers: { 'nova-read-after': '1.1', 'nova-max-wait-ms': '999999' } }, 400],
    ['GET', '/no-such-route', {}, 404],
    ['DELETE', '/posts', {}, 404],
    ...injections.map((text): [string, string, { body?: unknown }, number] => ['POST', `/users/${encodeURIComponent(text)}/follow`, {}, 400]),
    ...injections.map((text): [string, string, { body?: unknown }, number] => ['GET', `/notifications?cursor=${encodeURIComponent(text)}`, {}, 400]),
  ];
  assert.ok(cases.length >= 40, `${cases.length} cases`);
  const before = await counts();
  for (const [method, path, options, status] of cases) {
    const as = options.as === 'service' ? harness.service : (options.as ?? ben.token);
    const reply = await call(method, path, { ...options, as });
    assert.equal(reply.status, status, `${method} ${path} ${JSON.stringify(options.body ?? options.raw ?? options.headers)?.slice(0, 80)}: ${JSON.stringify(reply.body).slice(0, 300)}`);
    assert.equal(reply.headers.get('content-type'), 'application/problem+json', `${method} ${path}`);
    assert.equal(reply.body.status, status);
    if (status === 400) assert.ok(reply.body.errors?.length > 0 || reply.body.detail, `${method} ${path} names what is wrong`);
  }
  assert.deepEqual(await counts(), before, 'nothing was written');
  // NUL is refused by the schema, naming the field (PostgreSQL's own refusal would name only "body")
  for (const [path, body, field] of [['/posts', { text: 'a\u0000' }, 'text'], ['/users', { username: 'valid_name', bio: '\u0000' }, 'bio']] as const) {
    const reply = await call('POST', path, { as: path === '/users' ? harness.service : ben.token, body });
    assert.deepEqual([reply.status, reply.body.errors?.[0]?.field], [400, field], JSON.stringify(reply.body));
    assert.match(reply.body.errors[0].message, /NUL/);
  }
});
