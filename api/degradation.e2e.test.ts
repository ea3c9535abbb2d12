// Degradation, as the seed asks (any store failing degrades, nothing breaks): each view store
// stopped in turn with the stack's own `down`, then brought back with `up`. While it is down,
// every route answers within its bound: those reading it fall back to PostgreSQL and say so,
// or answer 503 view-unavailable; every other route answers as usual; writes go on. Once it is
// back, its routes recover.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { apiUnderTest, type TestUser } from './testing/api-under-test.ts';
import { stack, waitFor } from '../scripts/stack.d/test/stack.ts';

const harness = apiUnderTest(['redis', 'neo4j', 'elasticsearch', 'clickhouse']);
const { call, newUser, readAfter } = harness;
type Store = 'redis' | 'elasticsearch' | 'neo4j' | 'clickhouse' | 'milvus';

const fallback = { 'nova-served-by': 'postgresql', 'nova-degraded': 'redis' };

let ann: TestUser;
let ben: TestUser;
let conversation: string;
let setupWrite: Awaited<ReturnType<typeof call>>;

before(async () => {
  [ann, ben] = [await newUser('ann'), await newUser('ben')];
  const sent = await call('POST', '/messages', { as: ben.token, body: { recipient_id: ann.id, content: 'degraded mode' } });
  conversation = sent.body.conversation_id;
  setupWrite = sent;
  await waitFor('the views to apply the setup', async () => {
    const replies = await Promise.all(['/conversations', '/messages/search?q=degraded', '/activity', '/suggestions'].map((path) => call('GET', path, { as: ann.token, headers: readAfter(sent) })));
    return replies.every((r) => r.status === 200 && !r.headers.get('nova-consistency')?.startsWith('stale')) ? true : undefined;
  }, 400_000);
}, { timeout: 420_000 });

type Route = { method: string; path: string; body?: unknown; reads: Store[]; whenDown: number; says?: Record<string, string>; up?: Awaited<ReturnType<typeof call>> };
/** Each route, what it reads, and what it answers while that store is down: a status, and the headers it must carry. */
let table: Route[] | undefined;
const routes = (): Route[] => (table ??= [
  { method: 'GET', path: '/notifications', reads: ['redis'], whenDown: 200, says: fallback },
  { method: 'GET', path: '/notifications/unread-count', reads: ['redis'], whenDown: 200, says: fallback },
  { method: 'GET', path: '/conversations', reads: ['redis'], whenDown: 503 },
  { method: 'GET', path: `/users/${ann.id}/followers`, reads: ['redis'], whenDown: 503 },
  { method: 'GET', path: '/live-streams/live', reads: ['redis'], whenDown: 503 },
  { method: 'GET', path: '/recommendations', reads: ['redis'], whenDown: 503 },
  { method: 'GET', path: '/messages/search?q=degraded', reads: ['elasticsearch'], whenDown: 503 },
  { method: 'GET', path: '/activity', reads: ['clickhouse'], whenDown: 503 },
  // cached by the setup's read: served from the cache while the graph is away
  { method: 'GET', path: '/suggestions', reads: ['neo4j'], whenDown: 200, says: { 'nova-served-by': 'cache' } },
  { method: 'GET', path: `/users/${ann.id}`, reads: [], whenDown: 200 },
  { method: 'GET', path: `/conversations/${conversation}/messages`, reads: [], whenDown: 200 },
  { method: 'POST', path: '/posts', body: { text: 'still writing' }, reads: [], whenDown: 201 },
  { method: 'POST', path: '/messages', body: { recipient_id: ben.id, content: 'still sending' }, reads: [], whenDown: 201 },
]);

// a bound, not a speed claim: no route may hang on a store that is gone. A view read gives up
// at 1.5 s; twice that plus room for a loaded 2-core machine, and well under the 10 s a token allows.
const bound = 6_000;

for (const store of ['redis', 'elasticsearch', 'neo4j', 'clickhouse', 'milvus'] as const) {
  test(`${store} down: every route answers as specified within its bound; back up, its routes recover`, { timeout: 300_000 }, async () => {
    try {
      for (const route of routes()) {
        if (route.method !== 'GET' || !route.says) continue;
        // from the view itself (a token skips the suggestion cache, and fills it)
        route.up = await call(route.method, route.path, { as: ann.token, headers: readAfter(setupWrite) });
        assert.deepEqual([route.up.status, route.up.headers.get('nova-served-by'), route.up.headers.get('nova-degraded')], [200, null, null], `${route.path} from its view`);
      }
      await stack('down', store);
      for (const route of routes()) {
        const started = Date.now();
        const reply = await call(route.method, route.path, { as: ann.token, body: route.body});
        const took = Date.now() - started;
        const expected = route.reads.includes(store) ? route.whenDown : route.method === 'POST' ? 201 : 200;
        assert.equal(reply.status, expected, `${route.method} ${route.path} with ${store} down: ${JSON.stringify(reply.body).slice(0, 300)}`);
        if (expected === 503) assert.deepEqual([reply.body.type, reply.body.view], ['https://nova.dev/problems/view-unavailable', store], route.path);
        if (route.reads.includes(store) && route.says) {
          for (const [header, value] of Object.entries(route.says)) assert.equal(reply.headers.get(header), value, `${route.path} says how it was served`);
          // the same answer as the view gave while it was up
          assert.deepEqual(reply.body, route.up?.body, `${route.path} answers what the view answered`);
          if (store === 'redis') {
            // a token is met by PostgreSQL at once: no wait for a store that is gone
            // (readAfter allows 10 s: a route that waited for the view first would take all of it)
            const asked = Date.now();
            const tokened = await call(route.method, route.path, { as: ann.token, headers: readAfter(setupWrite) });
            assert.deepEqual([tokened.status, tokened.headers.get('nova-consistency'), tokened.body], [200, 'applied; served-by=postgresql', route.up?.body], `${route.path} with a token`);
            assert.ok(Date.now() - asked < bound, `${route.path} with a token answered without waiting for Redis`);
          }
        }
        assert.ok(took < bound, `${route.method} ${route.path} took ${took} ms with ${store} down`);
      }
      const ready = await call('GET', '/readyz');
      assert.equal(ready.status, store === 'milvus' ? 200 : 503, `readiness names the store: ${JSON.stringify(ready.body)}`);
    } finally {
      await stack('up', store);
    }
    await waitFor(`the routes reading ${store} to recover`, async () => {
      for (const route of routes().filter((r) => r.reads.includes(store) && r.method === 'GET')) {
        // with a token, which skips the suggestion cache: a cached answer would hide a view still away
        const reply = await call(route.method, route.path, { as: ann.token, headers: readAfter(setupWrite) });
        if (reply.status !== 200 || reply.headers.get('nova-degraded') !== null || reply.headers.get('nova-served-by') !== null) return undefined;
      }
      return (await call('GET', '/readyz')).status === 200 ? true : undefined;
    }, 180_000);
  });
}
