// The API's messages, live, analytics and recommendations routes over HTTP against the real
// stack (testing/api-under-test.ts: the Redis, Elasticsearch and ClickHouse projectors as
// processes, in a reader namespace of this file's own): each written through the API and read
// back with its token; search never leaves the caller's conversations; bad input is a 4xx.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { openRedis, redisTarget } from '../projectors/redis/client.ts';
import { cacheKeys } from '../projectors/redis/reader-keys.ts';
import { apiUnderTest, type TestUser } from './testing/api-under-test.ts';
import { env, waitFor } from '../scripts/stack.d/test/stack.ts';

const harness = apiUnderTest(['redis', 'elasticsearch', 'clickhouse']);
const { db, call, newUser, readAfter } = harness;

before(async () => {
  // every projector has replayed the topics: a write's token is applied in each view
  const [a, b] = [await newUser('probe'), await newUser('probe')];
  const sent = await call('POST', '/messages', { as: a.token, body: { recipient_id: b.id, content: 'probe' } });
  const post = await call('POST', '/posts', { as: a.token, body: { text: 'probe' } });
  const liked = await call('POST', `/posts/${post.body.id}/likes`, { as: b.token });
  await waitFor(
    'the projectors to catch up',
    async () => {
      const replies = await Promise.all([
        call('GET', '/conversations', { as: b.token, headers: readAfter(liked) }),
        call('GET', '/messages/search?q=probe', { as: b.token, headers: readAfter(liked) }),
        call('GET', '/activity', { as: b.token, headers: readAfter(liked) }),
      ]);
      return replies.every((r) => r.headers.get('nova-consistency')?.startsWith('applied')) && sent.status === 201 ? true : undefined;
    },
    400_000,
  );
}, { timeout: 420_000 });

const send = (from: TestUser, to: TestUser, content: string, headers: Record<string, string> = {}) => call('POST', '/messages', { as: from.token, body: { recipient_id: to.id, content }, headers });

describe('messages', () => {
  test('a first message creates the conversation (participants in id order); both sides see it, with unread counts, history and a notification', async () => {
    const [ann, ben] = [await newUser('ann'), await newUser('ben')];
    const first = await send(ann, ben, 'hello ben');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await send(ann, ben, 'are you there?');
    const reply = await send(ben, ann, 'yes');
    assert.equal(new Set([first.body.conversation_id, second.body.conversation_id, reply.body.conversation_id]).size, 1, 'one conversation for the pair, whoever writes');
    const conversation = first.body.conversation_id;
    const { rows } = await db.query('SELECT participant1_id::text AS p1, participant2_id::text AS p2, last_message_id::text AS last FROM conversations WHERE id = $1', [conversation]);
    assert.deepEqual(rows[0], { p1: [ann.id, ben.id].sort((x, y) => Number(BigInt(x) - BigInt(y)))[0], p2: [ann.id, ben.id].sort((x, y) => Number(BigInt(x) - BigInt(y)))[1], last: reply.body.id });
    const read = await db.query('SELECT user_id::text AS u, last_read_message_id::text AS m FROM message_read_status WHERE conversation_id = $1 ORDER BY user_id', [conversation]);
    assert.deepEqual(Object.fromEntries(read.rows.map((r) => [r.u, r.m])), { [ann.id]: second.body.id, [ben.id]: reply.body.id }, 'each sender has read up to their own message');

    const bens = await call('GET', '/conversations', { as: ben.token, headers: readAfter(reply) });
    assert.deepEqual(bens.body.items, [{ id: conversation, peer_id: ann.id, unread: 0, last_message_id: reply.body.id }], 'ben replied after both: nothing unread');
    const anns = await call('GET', '/conversations', { as: ann.token, headers: readAfter(reply) });
    assert.deepEqual(anns.body.items, [{ id: conversation, peer_id: ben.id, unread: 1, last_message_id: reply.body.id }]);
    const notified = await call('GET', '/notifications', { as: ben.token, headers: readAfter(reply) });
    assert.deepEqual(notified.body.items.map((n: any) => [n.type, n.actor_id, n.target_id, n.content.message_id]), [['message', ann.id, conversation, second.body.id], ['message', ann.id, conversation, first.body.id]]);

    const marked = await call('POST', `/conversations/${conversation}/read`, { as: ann.token, body: {} });
    assert.deepEqual(marked.body, { conversation_id: conversation, last_read_message_id: reply.body.id });
    const back = await call('POST', `/conversations/${conversation}/read`, { as: ann.token, body: { last_read_message_id: first.body.id } });
    assert.equal(back.body.last_read_message_id, reply.body.id, 'a read position never moves back');
    const cleared = await call('GET', '/conversations', { as: ann.token, headers: readAfter(back) });
    assert.equal(cleared.body.items[0].unread, 0);

    const page1 = await call('GET', `/conversations/${conversation}/messages?limit=2`, { as: ann.token });
    assert.deepEqual([page1.headers.get('nova-served-by'), page1.body.items.map((m: any) => m.content)], ['postgresql', ['yes', 'are you there?']]);
    const page2 = await call('GET', `/conversations/${conversation}/messages?limit=2&cursor=${page1.body.next_cursor}`, { as: ann.token });
    assert.deepEqual([page2.body.items.map((m: any) => m.content), page2.body.next_cursor], [['hello ben'], null]);
  });

  test('the conversations list pages newest first with cursors', async () => {
    const me = await newUser('me');
    const peers = [await newUser('p'), await newUser('p'), await newUser('p')];
    let last;
    for (const peer of peers) last = await send(peer, me, `from ${peer.username}`);
    const first = await call('GET', '/conversations?limit=2', { as: me.token, headers: readAfter(last!) });
    assert.deepEqual(first.body.items.map((c: any) => c.peer_id), [peers[2]!.id, peers[1]!.id]);
    assert.ok(first.body.items.every((c: any) => c.unread === 1));
    const rest = await call('GET', `/conversations?limit=2&cursor=${first.body.next_cursor}`, { as: me.token });
    assert.deepEqual([rest.body.items.map((c: any) => c.peer_id), rest.body.next_cursor], [[peers[0]!.id], null]);
  });

  test('someone blocked by the recipient cannot message them; nobody can message themself', async () => {
    const [ann, ben] = [await newUser('ann'), await newUser('ben')];
    await call('POST', `/users/${ben.id}/block`, { as: ann.token });
    const refused = await send(ben, ann, 'let me in');
    assert.equal(refused.status, 404);
    assert.equal((await send(ann, ann, 'me')).status, 400);
    assert.equal(Number((await db.query('SELECT count(*) AS n FROM messages WHERE sender_id = $1', [ben.id])).rows[0].n), 0);
  });

  test('an Idempotency-Key on a message, retried and sent at once, sends one', async () => {
    const [ann, ben] = [await newUser('ann'), await newUser('ben')];
    const key = `msg-${ann.id}`;
    const replies = await Promise.all(Array.from({ length: 5 }, () => send(ann, ben, 'once', { 'idempotency-key': key })));
    assert.equal(new Set(replies.map((r) => r.body.id)).size, 1);
    assert.equal(Number((await db.query('SELECT count(*) AS n FROM messages WHERE sender_id = $1', [ann.id])).rows[0].n), 1);
  });
});

test('isolation: another user gets 404 on a conversation and its messages, and no search of theirs returns its messages', async () => {
  const [ann, ben, eve] = [await newUser('ann'), await newUser('ben'), await newUser('eve')];
  await call('POST', `/users/${eve.id}/follow`, { as: ben.token }); // eve has a notification of her own
  const secret = await send(ann, ben, 'zebrasecret launch codes');
  const own = await send(eve, ann, 'zebrasecret mine');
  const conversation = secret.body.conversation_id;
  for (const [method, path, body] of [
    ['GET', `/conversations/${conversation}/messages`, undefined],
    ['POST', `/conversations/${conversation}/read`, {}],
    ['GET', `/messages/search?q=zebrasecret&conversation_id=${conversation}`, undefined],
  ] as const) {
    const reply = await call(method, path, { as: eve.token, body });
    assert.deepEqual([reply.status, reply.body.type], [404, 'https://nova.dev/problems/not-found'], `${method} ${path}`);
  }
  const other = await call('GET', `/notifications`, { as: eve.token, headers: readAfter(own) });
  assert.deepEqual(other.body.items.map((n: any) => [n.type, n.actor_id]), [['follow', ben.id]], 'hers, and nothing of theirs');
  // ben's view of his conversation is waited for with the last write's token: the index holds both messages
  const seen = await call('GET', '/messages/search?q=zebrasecret', { as: ben.token, headers: readAfter(own) });
  assert.deepEqual(seen.body.items.map((m: any) => m.id), [secret.body.id]);
  const crafted = [
    'zebrasecret', '*', '*:*', 'zebrasecret | *', 'launch*', '"launch codes"', `conversation_id:${conversation}`, `content:zebrasecret`,
    `zebrasecret conversation_id:${conversation}`, '+zebrasecret -nothing', '_id:*', '{"match_all":{}}', `" OR conversation_id:${conversation} OR "`, '\\*', 'zebra~2',
  ];
  for (const q of crafted) {
    const reply = await call('GET', `/messages/search?q=${encodeURIComponent(q)}`, { as: eve.token, headers: readAfter(own) });
    assert.equal(reply.status, 200, `${q}: ${JSON.stringify(reply.body)}`);
    for (const hit of reply.body.items) assert.equal(hit.conversation_id, own.body.conversation_id, `q=${q} returned ${JSON.stringify(hit)}`);
    assert.ok(!reply.body.items.some((m: any) => m.id === secret.body.id), `q=${q}`);
  }
  const mine = await call('GET', '/messages/search?q=zebrasecret', { as: eve.token });
  assert.deepEqual(mine.body.items.map((m: any) => m.id), [own.body.id], 'their own message is found');
});

test('a tokened search finds the write even when the index refreshes never by itself (the route refreshes it)', async () => {
  const es = new ElasticsearchClient({ node: env('ELASTICSEARCH_URL') });
  const index = `messages_v${harness.generations.elasticsearch}`;
  await es.indices.putSettings({ index, settings: { refresh_interval: '-1' } });
  try {
    const [ann, ben] = [await newUser('ann'), await newUser('ben')];
    const sent = await send(ann, ben, 'quokka unrefreshed');
    const found = await call('GET', '/messages/search?q=quokka', { as: ben.token, headers: readAfter(sent) });
    assert.match(found.headers.get('nova-consistency') ?? '', /^applied/);
    assert.deepEqual(found.body.items.map((m: any) => m.id), [sent.body.id]);
  } finally {
    await es.indices.putSettings({ index, settings: { refresh_interval: '1s' } });
    await es.close();
  }
});

test('live: a stream created, started (in the live-now list, its metadata readable, no stream key shown), ended (gone from the list)', async () => {
  const [star, fan] = [await newUser('star'), await newUser('fan')];
  const created = await call('POST', '/live-streams', { as: star.token, body: { title: 'Sunday cooking', description: 'pasta' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.body.rtmp_url, /^rtmp:\/\/.+\/.{20,}$/);
  assert.equal(created.body.status, 'preparing');
  const id = created.body.id;
  assert.equal((await call('POST', `/live-streams/${id}/start`, { as: fan.token })).status, 404, 'only its streamer starts it');
  const started = await call('POST', `/live-streams/${id}/start`, { as: star.token });
  assert.equal(started.body.status, 'live');
  assert.equal((await call('POST', `/live-streams/${id}/start`, { as: star.token })).status, 409, 'started once');
  const live = await call('GET', '/live-streams/live?limit=100', { as: fan.token, headers: readAfter(started) });
  const listed = live.body.items.find((s: any) => s.id === id);
  assert.deepEqual([listed?.title, listed?.status, listed?.user_id], ['Sunday cooking', 'live', star.id]);
  const meta = await call('GET', `/live-streams/${id}`, { as: fan.token });
  assert.equal(meta.body.hls_url, created.body.hls_url);
  assert.ok(!JSON.stringify([live.body, meta.body]).includes(created.body.rtmp_url), 'the stream key is never shown to viewers');
  const ended = await call('POST', `/live-streams/${id}/end`, { as: star.token });
  const after = await call('GET', '/live-streams/live?limit=100', { as: fan.token, headers: readAfter(ended) });
  assert.ok(!after.body.items.some((s: any) => s.id === id));
  assert.equal((await call('GET', `/live-streams/${id}`, { as: fan.token, headers: readAfter(ended) })).body.status, 'ended');
});

test('activity: the caller\'s interactions per type per day, from ClickHouse, after their token', async () => {
  const [ann, ben] = [await newUser('ann'), await newUser('ben')];
  const posts = [];
  for (let i = 0; i < 2; i++) posts.push((await call('POST', '/posts', { as: ann.token, body: { text: `post ${i}` } })).body.id);
  for (const post of posts) await call('POST', `/posts/${post}/likes`, { as: ben.token });
  const last = await call('POST', `/posts/${posts[0]}/comments`, { as: ben.token, body: { text: 'nice' } });
  const activity = await call('GET', '/activity?days=2', { as: ben.token, headers: readAfter(last) });
  assert.match(activity.headers.get('nova-consistency') ?? '', /^applied/);
  const today = new Date().toISOString().slice(0, 10);
  assert.deepEqual(activity.body.days.filter((d: any) => d.day === today).map((d: any) => d.counts), [{ comment: 1, like: 2 }]);
  assert.deepEqual((await call('GET', '/activity', { as: ann.token, headers: readAfter(last) })).body.days, [], 'ann did nothing');
});

test('recommendations: cold until a worker caches a list, then the caller\'s own', async () => {
  const ann = await newUser('ann');
  const cold = await call('GET', '/recommendations', { as: ann.token });
  assert.equal(cold.status, 200);
  assert.ok(['cold', 'trending'].includes(cold.body.source), cold.body.source);
  const cache = openRedis(redisTarget(process.env), { queue: true });
  try {
    await cache.set(cacheKeys.recommendedPosts(ann.id), JSON.stringify([{ item_id: 123, score: 0.95 }, { item_id: 456, score: 0.89 }]), 'EX', 60);
    const personal = await call('GET', '/recommendations', { as: ann.token });
    assert.deepEqual(personal.body, { items: [{ item_id: '123', score: 0.95 }, { item_id: '456', score: 0.89 }], source: 'personal' });
  } finally {
    await cache.del(cacheKeys.recommendedPosts(ann.id));
    cache.disconnect();
  }
});

test('bad input on these routes: each a 4xx problem naming what is wrong, nothing written, no 5xx', async () => {
  const [ann, ben] = [await newUser('ann'), await newUser('ben')];
  const conversation = (await send(ann, ben, 'hi')).body.conversation_id;
  const stream = (await call('POST', '/live-streams', { as: ann.token, body: { title: 'mine' } })).body.id;
  // what these two users own, rows and their state: other traffic on the stack leaves it alone
  const counts = async () => (await db.query(
    `SELECT (SELECT count(*) FROM messages WHERE sender_id = ANY ($1::bigint[])) AS messages,
            (SELECT count(*) FROM conversations WHERE participant1_id = ANY ($1::bigint[]) OR participant2_id = ANY ($1::bigint[])) AS conversations,
            (SELECT json_agg(json_build_array(user_id, conversation_id, last_read_message_id) ORDER BY user_id) FROM message_read_status WHERE user_id = ANY ($1::bigint[])) AS read_status,
            (SELECT count(*) FROM live_streams WHERE user_id = ANY ($1::bigint[])) AS streams,
            (SELECT count(*) FROM notifications WHERE user_id = ANY ($1::bigint[]) OR actor_id = ANY ($1::bigint[])) AS notifications`,
    [[ann.id, ben.id]],
  )).rows[0];
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const cases: Array<[string, string, unknown, number]> = [
    ['POST', '/messages', {}, 400],
    ['POST', '/messages', { recipient_id: ben.id }, 400],
    ['POST', '/messages', { recipient_id: ben.id, content: '' }, 400],
    ['POST', '/messages', { recipient_id: ben.id, content: 'x'.repeat(10_001) }, 400],
    ['POST', '/messages', { recipient_id: Number(ben.id), content: 'number id' }, 400],
    ['POST', '/messages', { recipient_id: '-1', content: 'x' }, 400],
    ['POST', '/messages', { recipient_id: '9223372036854775808', content: 'x' }, 400],
    ['POST', '/messages', { recipient_id: '9223372036854775807', content: 'x' }, 404],
    ['POST', '/messages', { recipient_id: ben.id, content: 'x', message_type: 'sticker' }, 400],
    ['POST', '/messages', { recipient_id: ben.id, content: 'x', metadata: { file_url: 7 } }, 400],
    ['POST', '/messages', { recipient_id: ben.id, content: 'x', extra: 1 }, 400],
    ['POST', '/messages', { recipient_id: ben.id, content: 'nul\u0000' }, 400],
    ['POST', `/conversations/${conversation}/read`, { last_read_message_id: '9223372036854775807' }, 400],
    ['POST', `/conversations/${conversation}/read`, { last_read_message_id: 'abc' }, 400],
    ['POST', '/conversations/abc/read', {}, 400],
    ['GET', '/conversations?cursor=nope', undefined, 400],
    ['GET', `/conversations?cursor=${cursor({ score: '1; FLUSHALL', id: '1' })}`, undefined, 400],
    ['GET', `/conversations/${conversation}/messages?cursor=${cursor({ before: "1' OR '1'='1" })}`, undefined, 400],
    ['GET', '/conversations/9223372036854775807/messages', undefined, 404],
    ['GET', '/messages/search', undefined, 400],
    ['GET', '/messages/search?q=', undefined, 400],
    ['GET', `/messages/search?q=${'x'.repeat(201)}`, undefined, 400],
    ['GET', '/messages/search?q=x&limit=51', undefined, 400],
    ['GET', '/messages/search?q=x&conversation_id=abc', undefined, 400],
    ['GET', `/messages/search?q=x&cursor=${cursor({ score: 'NaN', id: '1' })}`, undefined, 400],
    ['POST', '/live-streams', {}, 400],
    ['POST', '/live-streams', { title: 'x'.repeat(256) }, 400],
    ['POST', '/live-streams', { title: 'ok', thumbnail_url: 'file:///etc/passwd' }, 400],
    ['POST', `/live-streams/${stream}/end`, undefined, 200],
    ['POST', `/live-streams/${stream}/start`, undefined, 409],
    ['POST', '/live-streams/9223372036854775807/start', undefined, 404],
    ['GET', '/live-streams/0', undefined, 400],
    ['GET', '/live-streams/live?limit=0', undefined, 400],
    ['GET', '/activity?days=0', undefined, 400],
    ['GET', '/activity?days=91', undefined, 400],
    ['GET', `/activity?days=${encodeURIComponent('1; DROP TABLE user_behavior_events')}`, undefined, 400],
  ];
  const before = await counts();
  for (const [method, path, body, status] of cases) {
    const reply = await call(method, path, { as: method === 'POST' && path.startsWith('/live-streams/') ? ann.token : ben.token, body });
    assert.equal(reply.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)}: ${JSON.stringify(reply.body).slice(0, 300)}`);
    if (status >= 400) assert.equal(reply.headers.get('content-type'), 'application/problem+json', `${method} ${path}`);
  }
  assert.deepEqual(await counts(), before, 'nothing was written (the one end changes a stream\'s status, adds no row)');
});
