// public.messages -> the `messages` index (seed section 2.2).
import type { Change } from '../../runtime/decode/index.ts';
import type { MessagesRow } from '../../../schemas/avro/types.ts';
import { esOp, isoDate, known, refuseTruncate, rowAfter, type EsOp } from './es-op.ts';

const table = 'public.messages';

function messageDoc(row: MessagesRow, deleted: boolean | null) {
  return {
    message_id: row.id,
    conversation_id: row.conversation_id,
    sender_id: row.sender_id,
    content: known(row.content, table, 'content'),
    message_type: known(row.message_type, table, 'message_type'),
    is_deleted: deleted,
    created_at: isoDate(row.created_at),
  };
}

export function mapMessage(change: Change): EsOp[] {
  switch (change.op) {
    case 'create':
    case 'read':
    case 'update': {
      const row = rowAfter<MessagesRow>(change);
      return [esOp('messages', change, messageDoc(row, row.is_deleted))];
    }
    case 'delete': {
      // The seed models deletion as the is_deleted flag and keeps deleted messages in the
      // index, so a hard delete in PostgreSQL becomes the same flagged document, built from
      // the old row (REPLICA IDENTITY FULL), rather than removing it.
      if (change.before === null) throw new Error(`${table}: delete without the old row (needs REPLICA IDENTITY FULL)`);
      return [esOp('messages', change, messageDoc(change.before as MessagesRow, true))];
    }
    case 'truncate':
      return refuseTruncate(change);
  }
}
