// public.users -> (:User {id, username, avatar_url, bio, created_at}).
import type { Change } from '../../runtime/decode/index.ts';
import type { UsersRow } from '../../../schemas/avro/types.ts';
import { epochSeconds, known, orderOf, type GraphOp } from './graph-op.ts';

const table = 'public.users';

function userId(change: Change): number {
  const id = change.key?.['id'];
  if (typeof id !== 'number') throw new Error(`${table}: a ${change.op} without a numeric id key`);
  return id;
}

export function mapUser(change: Change): GraphOp[] {
  const at = orderOf(change);
  switch (change.op) {
    case 'create':
    case 'read':
    case 'update': {
      if (change.after === null) throw new Error(`${table}: ${change.op} without an after row`);
      const row = change.after as UsersRow;
      const user = {
        username: known(row.username, table, 'username'),
        avatar_url: known(row.avatar_url, table, 'avatar_url'),
        bio: known(row.bio, table, 'bio'),
        created_at: epochSeconds(row.created_at),
      };
      return [{ kind: 'user', id: userId(change), user, ...at }];
    }
    case 'delete':
      return [{ kind: 'user', id: userId(change), user: null, ...at }];
    case 'truncate':
      return [{ kind: 'truncate', table: 'users', ...at }];
  }
}
