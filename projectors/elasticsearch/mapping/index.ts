// Change -> EsOp[], dispatched by source table. Pure: no I/O, no awaits.
import type { Change } from '../../runtime/decode/index.ts';
import type { EsOp } from './es-op.ts';
import { mapMessage } from './messages.ts';
import { mapPost } from './posts.ts';
import { mapUser } from './users.ts';

export type { EsOp } from './es-op.ts';

const byTable: Record<string, (change: Change) => EsOp[]> = {
  'public.messages': mapMessage,
  'public.posts': mapPost,
  'public.users': mapUser,
};

export function mapChange(change: Change): EsOp[] {
  const map = byTable[change.table];
  if (!map) throw new Error(`elasticsearch: no mapping for ${change.table}`);
  return map(change);
}
