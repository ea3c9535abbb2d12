// public.follows -> (:User {id: follower_id})-[:FOLLOWS {created_at}]->(:User {id: followee_id}).
// The topic is keyed by the row id, but the relationship belongs to the pair: a pair's row can
// be deleted and inserted again with a new id (on another partition), or an update can move a
// row to another pair. So each op names the pair and the state it has as of the change, and
// the sink keeps, per pair, whatever the newest version says (graph-writes.ts). Only active
// follows are followers (as in the Redis projector): blocked, muted or NULL leave no FOLLOWS.
import type { Change, Ordered } from '../../runtime/decode/index.ts';
import type { FollowsRow } from '../../../schemas/avro/types.ts';
import { epochSeconds, known, orderOf, type GraphOp } from './graph-op.ts';

const table = 'public.follows';

const samePair = (a: FollowsRow, b: FollowsRow) => a.follower_id === b.follower_id && a.followee_id === b.followee_id;

function pairOp(row: FollowsRow, at: Ordered, following: boolean): GraphOp {
  const edge = following ? { created_at: epochSeconds(row.created_at) } : null;
  return { kind: 'follows', follower: row.follower_id, followee: row.followee_id, edge, ...at };
}

export function mapFollow(change: Change): GraphOp[] {
  const at = orderOf(change);
  const was = change.before as FollowsRow | null;
  switch (change.op) {
    case 'create':
    case 'read':
    case 'update': {
      if (change.after === null) throw new Error(`${table}: ${change.op} without an after row`);
      const now = change.after as FollowsRow;
      const left = was !== null && !samePair(was, now) ? [pairOp(was, at, false)] : [];
      return [...left, pairOp(now, at, known(now.status, table, 'status') === 'active')];
    }
    case 'delete':
      if (was === null) throw new Error(`${table}: delete without the old row (needs REPLICA IDENTITY FULL)`);
      return [pairOp(was, at, false)];
    case 'truncate':
      return [{ kind: 'truncate', table: 'follows', ...at }];
  }
}
