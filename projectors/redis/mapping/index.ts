// Which mapping handles which source table.
import type { Change } from '../../runtime/decode/index.ts';
import type { RedisOp } from '../commands.ts';
import { mapConversation, mapMessage, mapReadStatus } from './conversations.ts';
import { mapFollow } from './follows.ts';
import { mapLiveStream } from './live-streams.ts';
import { mapNotification } from './notifications.ts';

const byTable: Record<string, (change: Change) => RedisOp[]> = {
  'public.notifications': mapNotification,
  'public.follows': mapFollow,
  'public.conversations': mapConversation,
  'public.messages': mapMessage,
  'public.message_read_status': mapReadStatus,
  'public.live_streams': mapLiveStream,
};

/** The source tables the Redis views are made of. */
export const redisTables = Object.keys(byTable);

export const redisTopics = [
  'nova.notification.notifications',
  'nova.social.follows',
  'nova.message.conversations',
  'nova.message.messages',
  'nova.message.message_read_status',
  'nova.live.live_streams',
];

export function mapToRedis(change: Change): RedisOp[] {
  const map = byTable[change.table];
  if (!map) throw new Error(`the redis projector has no mapping for ${change.table}`);
  return map(change);
}
