// follows -> user:following:{follower_id} and user:followers:{followee_id}: only active
// follows count (blocked and muted are not followers). A pair can be unfollowed and followed
// again as a new row, and the two rows may sit in different partitions, so membership is derived
// from the set of active rows per pair, never toggled directly. The two sets sit on two users'
// slots, so a row has two sides, each an op on its own user's slot keeping its own copy of the
// pair's active rows.
import type { Change, Row } from '../../runtime/decode/index.ts';
import type { RedisCommand, RedisOp } from '../commands.ts';
import { tagged, viewKeys } from '../reader-keys.ts';
import { op, rowId, sides, truncate } from './row.ts';

type Side = { name: 'out' | 'in'; owner: (row: Row) => unknown; other: (row: Row) => unknown; edge: (owner: unknown) => string };
const followSides: Side[] = [
  { name: 'out', owner: (r) => r.follower_id, other: (r) => r.followee_id, edge: viewKeys.following },
  { name: 'in', owner: (r) => r.followee_id, other: (r) => r.follower_id, edge: viewKeys.followers },
];
const activeRows = (side: Side, row: Row) => tagged(`nova:follows:${side.name}`, side.owner(row), `:${side.other(row)}`);

function mark(change: Change, side: Side, row: Row, active: boolean): RedisCommand[] {
  const rows = activeRows(side, row);
  return [
    { cmd: active ? 'SADD' : 'SREM', key: rows, member: rowId(change) },
    { cmd: 'EDGE', rows, edge: side.edge(side.owner(row)), member: String(side.other(row)) },
  ];
}

export function mapFollow(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, ['user:following:', 'user:followers:', 'nova:follows:']);
  const { now, was } = sides(change);
  const ops: RedisOp[] = [];
  for (const side of followSides) {
    // one op per side and owner: the row's old owner (if the pair changed) and its new one
    const byOwner = new Map<string, { commands: RedisCommand[]; holds: boolean }>();
    const add = (row: Row, active: boolean) => {
      const owner = String(side.owner(row));
      const entry = byOwner.get(owner) ?? byOwner.set(owner, { commands: [], holds: false }).get(owner)!;
      entry.commands.push(...mark(change, side, row, active));
      entry.holds = active;
    };
    if (was) add(was, false);
    if (now) add(now, now.status === 'active');
    for (const [owner, { commands, holds }] of byOwner) ops.push(op(change, owner, holds, commands, `${rowId(change)}:${side.name}`));
  }
  return ops;
}
