import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { topicPlan } from './topic-plan.ts';

const { config } = JSON.parse(readFileSync(new URL('./postgres-nova.json', import.meta.url), 'utf8'));
const day = 86_400_000;

test("every projected table gets a topic named for its domain, with the seed's partitions and retention", () => {
  const plan = Object.fromEntries(topicPlan(config).map((t) => [t.table, t]));
  const expect = (table: string, topic: string, partitions: number, days: number) =>
    assert.deepEqual(plan[`public.${table}`], { topic, table: `public.${table}`, partitions, retentionMs: days * day, maxMessageBytes: 1_048_588 });
  expect('follows', 'nova.social.follows', 8, 7);
  expect('users', 'nova.social.users', 8, 7);
  expect('messages', 'nova.message.messages', 16, 30);
  expect('message_read_status', 'nova.message.message_read_status', 16, 30);
  expect('notifications', 'nova.notification.notifications', 8, 3);
  expect('live_streams', 'nova.live.live_streams', 4, 1);
  expect('user_interactions', 'nova.user.user_interactions', 16, 7);
  expect('user_embeddings', 'nova.recommendation.user_embeddings', 32, 90);
  assert.equal(Object.keys(plan).length, 14);
});

test('messages are partitioned by conversation over all 16 partitions of their topic', () => {
  assert.equal(config['transforms.messagesByConversation.partition.payload.fields'], 'change.conversation_id');
  assert.equal(config['transforms.messagesByConversation.partition.topic.num'], '16');
  assert.match('nova.message.messages', new RegExp(`^${config['predicates.isMessages.pattern']}$`));
});
