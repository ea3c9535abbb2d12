// Pure: each row is a hand-built Change and the EsOps it must become. No server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UNCHANGED, type Change, type Operation, type Row } from '../runtime/decode/index.ts';
import { mapChange, type EsOp } from './mapping/index.ts';

const at = new Date('2024-05-01T08:30:00.000Z');
const iso = at.toISOString();

// a version past 2^53 (epoch 1): it must reach the op exactly
const v = (1n << 56n) | 1000n;

function change(table: string, op: Operation, before: Row | null, after: Row | null, version = v): Change {
  const id = (after ?? before)?.['id'];
  return {
    kind: 'change', op, table, key: op === 'truncate' ? null : { id }, before, after, version, commitOrder: version, streamSince: 0, txId: 7, commitTs: at,
    position: { topic: 't', partition: 0, offset: '5' },
  };
}

const message = { id: 11, conversation_id: 3, sender_id: 9, content: '你好 nova', message_type: 'text', metadata: null, is_deleted: false, created_at: at };
const messageDoc = { message_id: 11, conversation_id: 3, sender_id: 9, content: '你好 nova', message_type: 'text', is_deleted: false, created_at: iso };
const post = { id: 21, author_id: 9, text: 'first post', created_at: at };
const user = { id: 9, username: 'linus', avatar_url: 'https://a/9.png', bio: null, created_at: null };

const maps: [string, Change, EsOp[]][] = [
  ['message insert', change('public.messages', 'create', null, message), [{ index: 'messages', id: '11', version: v, doc: messageDoc }]],
  ['message snapshot read', change('public.messages', 'read', null, message, 0n), [{ index: 'messages', id: '11', version: 0n, doc: messageDoc }]],
  [
    'message soft delete (update)',
    change('public.messages', 'update', message, { ...message, is_deleted: true }),
    [{ index: 'messages', id: '11', version: v, doc: { ...messageDoc, is_deleted: true } }],
  ],
  [
    'message hard delete keeps a flagged doc from before',
    change('public.messages', 'delete', message, null, v + 1000n),
    [{ index: 'messages', id: '11', version: v + 1000n, doc: { ...messageDoc, is_deleted: true } }],
  ],
  [
    'message metadata unchanged is not indexed, so not refused',
    change('public.messages', 'update', message, { ...message, metadata: UNCHANGED }),
    [{ index: 'messages', id: '11', version: v, doc: messageDoc }],
  ],
  ['post insert', change('public.posts', 'create', null, post), [{ index: 'posts', id: '21', version: v, doc: { post_id: 21, author_id: 9, text: 'first post', created_at: iso } }]],
  ['post delete', change('public.posts', 'delete', post, null), [{ index: 'posts', id: '21', version: v, doc: null }]],
  [
    'user update with null bio and created_at',
    change('public.users', 'update', user, { ...user, username: 'torvalds' }),
    [{ index: 'users', id: '9', version: v, doc: { user_id: 9, username: 'torvalds', bio: null, avatar_url: 'https://a/9.png', created_at: null } }],
  ],
  ['user delete', change('public.users', 'delete', user, null), [{ index: 'users', id: '9', version: v, doc: null }]],
];

const refusals: [string, Change, RegExp][] = [
  ['unchanged message content', change('public.messages', 'update', null, { ...message, content: UNCHANGED }), /public\.messages\.content: unchanged/],
  ['unchanged post text', change('public.posts', 'update', null, { ...post, text: UNCHANGED }), /public\.posts\.text: unchanged/],
  ['unchanged user bio', change('public.users', 'update', null, { ...user, bio: UNCHANGED }), /public\.users\.bio: unchanged/],
  ['message delete without before', { ...change('public.messages', 'delete', null, null), key: { id: 11 } }, /REPLICA IDENTITY FULL/],
  ['a change without an id key', { ...change('public.posts', 'create', null, post), key: {} }, /a change without an id key/],
  ['truncate', change('public.posts', 'truncate', null, null), /truncate cannot be projected/],
  ['a table this projector does not own', change('public.follows', 'create', null, { id: 1 }), /no mapping for public\.follows/],
];

describe('elasticsearch mapping', () => {
  for (const [name, input, expected] of maps) test(name, () => assert.deepEqual(mapChange(input), expected));
  for (const [name, input, error] of refusals) test(`refuses ${name}`, () => assert.throws(() => mapChange(input), error));
});
