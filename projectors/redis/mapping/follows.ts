// follows -> user:following:{follower_id} and user:followers:{followee_id}: only active
// follows count (blocked and muted are not followers). A pair can be unfollowed and
// followed again as a new row, and the two rows may sit in different partitions, so
// membership is derived from the set of active rows per pair, never toggled directly.
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';
import { readerKeys } from '../reader-keys.ts';
import { op, rowId, sides, truncate } from './row.ts';

const activeRows = (row: Row) => `nova:follows:active:${row.follower_id}:${row.followee_id}`;

function mark(change: Change, row: Row, active: boolean): RedisCommand[] {
  return [
    { cmd: active ? 'SADD' : 'SREM', key: activeRows(row), member: rowId(change) },
    {
      cmd: 'EDGE',
      rows: activeRows(row),
      following: readerKeys.following(row.follower_id),
      followers: readerKeys.followers(row.followee_id),
      follower: String(row.follower_id),
      followee: String(row.followee_id),
    },
  ];
}

export function mapFollow(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['user:following:*', 'user:followers:*', 'nova:follows:*']);
  const { now, was } = sides(change);
  const commands = [...(was ? mark(change, was, false) : []), ...(now ? mark(change, now, now.status === 'active') : [])];
  return [op(change, commands)];
}
