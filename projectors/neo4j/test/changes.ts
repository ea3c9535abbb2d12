// Test helper: hand-built users and follows changes, and the StoreOps the runtime would make of them.
import type { Change, Operation, Row } from '../../runtime/decode/index.ts';
import type { StoreOp } from '../../runtime/sink.ts';
import { mapToGraph, type GraphOp } from '../mapping/index.ts';

const createdAt = new Date(1_700_000_000_000);

function change(table: string, op: Operation, key: Row | null, before: Row | null, after: Row | null, lsn: number, partition: number): Change {
  return {
    kind: 'change', op, table, key, before, after, lsn, txId: lsn, commitTs: new Date(),
    position: { topic: table === 'public.users' ? 'nova.social.users' : 'nova.social.follows', partition, offset: String(lsn) },
  };
}

const userRow = (id: number, username: string): Row => ({ id, username, avatar_url: null, bio: `bio of ${username}`, created_at: createdAt });

export const userUpsert = (id: number, username: string, lsn: number, partition = 0) => change('public.users', 'update', { id }, null, userRow(id, username), lsn, partition);
export const userDelete = (id: number, lsn: number, partition = 0) => change('public.users', 'delete', { id }, userRow(id, 'gone'), null, lsn, partition);

type Pair = { row: number; follower: number; followee: number };
const followRow = ({ row, follower, followee }: Pair, status: string): Row => ({ id: row, follower_id: follower, followee_id: followee, status, created_at: createdAt });

export const followUpsert = (pair: Pair, status: string, lsn: number, partition = 0) => change('public.follows', 'update', { id: pair.row }, followRow(pair, 'active'), followRow(pair, status), lsn, partition);
export const followDelete = (pair: Pair, lsn: number, partition = 0) => change('public.follows', 'delete', { id: pair.row }, followRow(pair, 'active'), null, lsn, partition);

export const truncate = (table: 'users' | 'follows', lsn: number) => change(`public.${table}`, 'truncate', null, null, null, lsn, 0);

export const opsOf = (...changes: Change[]): StoreOp<GraphOp>[] => changes.flatMap((c) => mapToGraph(c).map((op) => ({ op, change: c })));
