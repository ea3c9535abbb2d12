// public.user_interactions -> user_behavior_events (seed section 5.2), one row version per change.
import type { Change } from '../../runtime/decode/index.ts';
import type { UserInteractionsRow } from '../../../schemas/avro/types.ts';
import { userBehaviorEvents as table } from '../tables.ts';
import { dateTime, float, known, orderingOf, rowAfter, unsigned, type ClickhouseOp, type Ordering } from './clickhouse-op.ts';

const source = 'public.user_interactions';

/** The row's identity: the key's id (a row's every version, tombstone included, shares it). */
function idOf(change: Change) {
  return unsigned(change.key?.['id'], `${source}.id`);
}

function eventRow(change: Change, ordering: Ordering): ClickhouseOp {
  const row = rowAfter<UserInteractionsRow>(change);
  return {
    kind: 'row',
    table,
    row: {
      id: idOf(change),
      user_id: unsigned(row.user_id, `${source}.user_id`),
      target_type: known(row.target_type, `${source}.target_type`),
      target_id: unsigned(row.target_id, `${source}.target_id`),
      interaction_type: known(row.interaction_type, `${source}.interaction_type`),
      interaction_value: row.interaction_value === null ? null : float(row.interaction_value),
      created_at: row.created_at === null ? null : dateTime(row.created_at, `${source}.created_at`),
      ...ordering,
      is_deleted: 0,
    },
  };
}

/**
 * A delete carries only the key (REPLICA IDENTITY DEFAULT), so its tombstone has the key, the
 * version and zero values; readers never see them, they filter is_deleted.
 */
function tombstone(change: Change, ordering: Ordering): ClickhouseOp {
  const row = { id: idOf(change), user_id: 0, target_type: '', target_id: 0, interaction_type: '', interaction_value: null, created_at: null, ...ordering, is_deleted: 1 as const };
  return { kind: 'row', table, row };
}

export function mapUserInteraction(change: Change): ClickhouseOp[] {
  const ordering = orderingOf(change);
  switch (change.op) {
    case 'create':
    case 'read':
    case 'update':
      return [eventRow(change, ordering)];
    case 'delete':
      return [tombstone(change, ordering)];
    case 'truncate':
      return [{ kind: 'truncate', table, row: { ...ordering, truncated_at: dateTime(change.commitTs, `${source} truncate commit time`) } }];
  }
}
