// Test helper: hand-built users and follows changes, and the StoreOps the runtime would make of them.
// A change's version is given as a number; its commit order is the version unless given.
import type { Change, Operation, Row } from '../../runtime/decode/index.ts';
import type { StoreOp } from '../../runtime/sink.ts';
import { mapToGraph, type GraphOp } from '../mapping/index.ts';

const createdAt = new Date(1_700_000_000_000);

function change(table: string, op: Operation, key: Row | null, before: Row | null, after: Row | null, version: number, partition: number): Change {
  return {
    kind: 'change', op, table, key, before, after, version: BigInt(version), commitOrder: BigInt(version), streamSince: 0, txId: version, commitTs: new Date(),
    position: { topic: table === 'public.users' ? 'nova.social.users' : 'nova.social.follows', partition, offset: String(version) },
  };
}

const userRow = (id: number, username: string): Row => ({ id, username, avatar_url: null, bio: `bio of ${username}`, created_at: createdAt });

export const userUpsert = (id: number, username: string, version: number, partition = 0) => change('public.users', 'update', { id }, null, userRow(id, username), version, partition);
export const userDelete = (id: number, version: number, partition = 0) => change('public.users', 'delete', { id }, userRow(id, 'gone'), null, version, partition);

type Pair = { row: number; follower: number; followee: number };
const followRow = ({ row, follower, followee }: Pair, status: string): Row => ({ id: row, follower_id: follower, followee_id: followee, status, created_at: createdAt });

export const followUpsert = (pair: Pair, status: string, version: number, partition = 0) => change('public.follows', 'update', { id: pair.row }, followRow(pair, 'active'), followRow(pair, status), version, partition);
export const followDelete = (pair: Pair, version: number, partition = 0) => change('public.follows', 'delete', { id: pair.row }, followRow(pair, 'active'), null, version, partition);
/** A snapshot read of a follows row: version 0, read at `commitOrder`. */
export const followRead = (pair: Pair, status: string, commitOrder: number, partition = 0): Change => ({ ...change('public.follows', 'read', { id: pair.row }, null, followRow(pair, status), 0, partition), commitOrder: BigInt(commitOrder) });

export const truncate = (table: 'users' | 'follows', version: number) => change(`public.${table}`, 'truncate', null, null, null, version, 0);

export const opsOf = (...changes: Change[]): StoreOp<GraphOp>[] => changes.flatMap((c) => mapToGraph(c).map((op) => ({ op, change: c })));
