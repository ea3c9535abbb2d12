// public.posts -> the `posts` index.
import type { Change } from '../../runtime/decode/index.ts';
import type { PostsRow } from '../../../schemas/avro/types.ts';
import { esOp, isoDate, known, refuseTruncate, rowAfter, type EsOp } from './es-op.ts';

const table = 'public.posts';

export function mapPost(change: Change): EsOp[] {
  switch (change.op) {
    case 'create':
    case 'read':
    case 'update': {
      const row = rowAfter<PostsRow>(change);
      return [
        esOp('posts', change, {
          post_id: row.id,
          author_id: row.author_id,
          text: known(row.text, table, 'text'),
          created_at: isoDate(row.created_at),
        }),
      ];
    }
    case 'delete':
      return [esOp('posts', change, null)];
    case 'truncate':
      return refuseTruncate(change);
  }
}
