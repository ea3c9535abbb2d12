// Change -> ClickhouseOp[], dispatched by source table. Pure: no I/O, no awaits.
import type { Change } from '../../runtime/decode/index.ts';
import type { ClickhouseOp } from './clickhouse-op.ts';
import { mapUserInteraction } from './user-interactions.ts';

export type { ClickhouseOp } from './clickhouse-op.ts';

const byTable: Record<string, (change: Change) => ClickhouseOp[]> = {
  'public.user_interactions': mapUserInteraction,
};

export function mapChange(change: Change): ClickhouseOp[] {
  const map = byTable[change.table];
  if (!map) throw new Error(`clickhouse: no mapping for ${change.table}`);
  return map(change);
}
