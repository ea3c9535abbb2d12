// The scenario against a fake API (no stack): what it sends, and how it skips a part whose
// route the API does not have yet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actions, people } from './cast.ts';
import { RouteUnavailable, type Api, type Reply } from './http-client.ts';
import { runScenario } from './scenario.ts';

type Sent = { method: string; path: string; as: string; body: any; key: string | undefined };

function fakeApi(missing: RegExp): { api: Api; sent: Sent[] } {
  const sent: Sent[] = [];
  let id = 100;
  const api: Api = {
    async call<B>(method: string, path: string, request: { as: string; body?: any; idempotencyKey?: string }): Promise<Reply<B>> {
      if (missing.test(path)) throw new RouteUnavailable(`${method} ${path}`);
      sent.push({ method, path, as: request.as, body: request.body, key: request.idempotencyKey });
      id += 1;
      const body = path === '/messages' ? { id: String(id), conversation_id: `c${request.body.recipient_id}` } : { id: String(id) };
      return { status: 201, headers: new Headers({ 'nova-consistency-token': `1.${id.toString(16)}` }), body: body as B };
    },
  };
  return { api, sent };
}

const run = (api: Api) => runScenario({ api, run: 'x1', serviceToken: 'service', mint: async (userId) => `token-of-${userId}`, log: () => {} });

test('a missing route skips its part, names it, and the rest is sent', async () => {
  const { api, sent } = fakeApi(/^\/(messages|live-streams)/);
  const written = await run(api);
  assert.deepEqual([...written.skipped.keys()], ['message', 'stream']);
  assert.equal(written.skipped.get('message'), 'route not available: POST /messages');
  assert.equal(written.counts.read, 0, 'no conversation to read');
  assert.ok(!sent.some((s) => s.path.startsWith('/conversations')));
  assert.equal(written.counts.user, people.length);
  assert.equal(written.counts.follow, actions.flatMap((a) => (a.kind === 'follow' ? a.of : [])).length);
  assert.equal(written.lastToken, `1.${(100 + sent.length).toString(16)}`, 'the last write\'s token');
});

test('people are created by the service, everything else as its actor; every write has its own key', async () => {
  const { api, sent } = fakeApi(/^$/);
  const written = await run(api);
  assert.ok(sent.filter((s) => s.path === '/users').every((s) => s.as === 'service' && /^[a-z]+_x1$/.test(s.body.username)));
  assert.ok(sent.filter((s) => s.path !== '/users').every((s) => s.as.startsWith('token-of-')));
  const keys = sent.map((s) => s.key);
  assert.ok(keys.every((k) => k?.startsWith('nova-demo:x1:')));
  assert.equal(new Set(keys).size, keys.length);
  const comment = sent.find((s) => s.path.endsWith('/comments'));
  assert.match(comment?.body.text, /@lena_x1\b/, 'mentions name this run\'s usernames');
  const maya = written.members.get('maya')?.id;
  const read = sent.find((s) => s.path.endsWith('/read') && s.as === `token-of-${maya}`);
  assert.ok(read?.body.last_read_message_id, 'a read names the newest message');
  assert.ok(written.streamId && sent.some((s) => s.path === `/live-streams/${written.streamId}/start`));
});
