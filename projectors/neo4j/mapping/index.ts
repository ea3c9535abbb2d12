// Change -> GraphOp[], dispatched by source table. Pure: no I/O, no awaits.
import type { Change } from '../../runtime/decode/index.ts';
import { mapFollow } from './follows.ts';
import type { GraphOp } from './graph-op.ts';
import { mapUser } from './users.ts';

export type { FollowsProps, GraphOp, UserProps } from './graph-op.ts';

export const neo4jTopics = ['nova.social.users', 'nova.social.follows'];

const byTable: Record<string, (change: Change) => GraphOp[]> = {
  'public.users': mapUser,
  'public.follows': mapFollow,
};

export function mapToGraph(change: Change): GraphOp[] {
  const map = byTable[change.table];
  if (!map) throw new Error(`neo4j: no mapping for ${change.table}`);
  return map(change);
}
