// A TRUNCATE of one of the tables the conversation views derive from, on the real server:
// messages and message_read_status can each be truncated alone in PostgreSQL (nothing refers to
// them), so the conversations stay and their counts are derived again from what is left.
import assert from 'node:assert/strict';
import { after, beforeEach, test } from 'node:test';
import type { Change, Row } from '../runtime/decode/index.ts';
import { redisTarget } from './client.ts';
import { actualFromRedis } from './drift.ts';
import { mapToRedis } from './mapping/index.ts';
import { createRedisSink } from './sink.ts';
import { claimGeneration } from './test/own-generation.ts';

const own = await claimGeneration(process.env);
after(() => own.release());
beforeEach(() => own.reset());

let position = 0n;
const change = (table: string, key: Row | null, after: Row | null): Change => {
  position += 10n;
  return {
    kind: 'change',
    op: after ? 'create' : 'truncate',
    table,
    key,
    before: null,
    after,
    version: position,
    commitOrder: position,
    streamSince: 0,
    txId: null,
    commitTs: new Date(0),
    position: { topic: `nova.message.${table.slice('public.'.length)}`, partition: 0, offset: String(position) },
  };
};

// conversation 1 between users 10 and 11; 10 sent messages 100 and 101; 11 read up to 100
const conversation = () => [
  change('public.conversations', { id: 1 }, { id: 1, participant1_id: 10, participant2_id: 11 }),
  change('public.messages', { id: 100 }, { id: 100, conversation_id: 1, sender_id: 10, is_deleted: false }),
  change('public.messages', { id: 101 }, { id: 101, conversation_id: 1, sender_id: 10, is_deleted: false }),
  change('public.message_read_status', { user_id: 11, conversation_id: 1 }, { user_id: 11, conversation_id: 1, last_read_message_id: 100 }),
];

async function viewAfter(changes: Change[]) {
  const sink = await createRedisSink({ target: redisTarget(process.env), generation: own.generation, projector: 'truncate-test' });
  try {
    await sink.apply(changes.flatMap((c) => mapToRedis(c).map((op) => ({ op, change: c }))), [], async () => {});
    return Object.fromEntries(await actualFromRedis(own.redis, own.generation));
  } finally {
    await sink.close();
  }
}

test('before any truncate: 11 has one unread, the conversation is at message 101', async () => {
  assert.deepEqual(await viewAfter(conversation()), {
    'conversation:unread:10:1': '0',
    'conversation:unread:11:1': '1',
    'user:conversations:10': '["1=101"]',
    'user:conversations:11': '["1=101"]',
  });
});

test('TRUNCATE messages: the conversation stays, with nothing unread and no newest message', async () => {
  assert.deepEqual(await viewAfter([...conversation(), change('public.messages', null, null)]), {
    'conversation:unread:10:1': '0',
    'conversation:unread:11:1': '0',
    'user:conversations:10': '["1=0"]',
    'user:conversations:11': '["1=0"]',
  });
});

test('TRUNCATE message_read_status: every message counts as unread again', async () => {
  assert.deepEqual(await viewAfter([...conversation(), change('public.message_read_status', null, null)]), {
    'conversation:unread:10:1': '0',
    'conversation:unread:11:1': '2',
    'user:conversations:10': '["1=101"]',
    'user:conversations:11': '["1=101"]',
  });
});

test('TRUNCATE conversations (which takes the other two with it): nothing is left', async () => {
  assert.deepEqual(await viewAfter([...conversation(), change('public.conversations', null, null)]), {});
});
