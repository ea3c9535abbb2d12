// public.users -> the `users` index.
import type { Change } from '../../runtime/decode/index.ts';
import type { UsersRow } from '../../../schemas/avro/types.ts';
import { esOp, isoDate, known, refuseTruncate, rowAfter, type EsOp } from './es-op.ts';

const table = 'public.users';

export function mapUser(change: Change): EsOp[] {
  switch (change.op) {
    case 'create':
    case 'read':
    case 'update': {
      const row = rowAfter<UsersRow>(change);
      return [
        esOp('users', change, {
          user_id: row.id,
          username: known(row.username, table, 'username'),
          bio: known(row.bio, table, 'bio'),
          avatar_url: known(row.avatar_url, table, 'avatar_url'),
          created_at: isoDate(row.created_at),
        }),
      ];
    }
    case 'delete':
      return [esOp('users', change, null)];
    case 'truncate':
      return refuseTruncate(change);
  }
}
