// The Cypher a batch runs, and the plan that feeds it. Every write is guarded by LSN:
//   - a User node keeps `lsn`, the newest users change applied to it; an older one is skipped.
//   - a users delete keeps the node as a tombstone (no `User` label, no properties,
//     `deleted`, `deleted_lsn`), so replaying an older insert cannot bring it back, and removes
//     its relationships older than the delete: PostgreSQL's foreign keys mean every follows
//     row of the user was deleted before it. `deleted_lsn` stays after a re-insert of the same
//     id, so a follows change from before the delete can never reattach.
//   - a (follower, followee) pair holds at most one relationship: FOLLOWS while the newest
//     change for the pair says active, else FOLLOWS_TOMBSTONE; either keeps that change's
//     `lsn`. Pair changes from different rows (and partitions) thus order by LSN alone.
//   - a truncate keeps its LSN on the generation node; anything of that table older than it
//     is removed now and refused later. Truncating users empties follows too (foreign keys).
//     Applied, not dead-lettered: the truncate stays in the topic, so a replay would meet it
//     again and a dead-lettered one would leave the graph wrong for good. It runs inside the
//     batch's transaction, so its size is bounded by Neo4j's transaction memory; past that the
//     server's out-of-memory error is transient and retried, visible in the logs, and
//     rebuilding into a new generation is the way out.
// Within a batch each target (user id, pair) is reduced to its newest op first: the rows of
// one UNWIND all read before any of them writes, so two ops for one target must not meet there.
// The runtime hands over every change, in order (batchChanges 'every-change'), so a row moved
// from pair to pair within a batch has left an op for each pair it left: newest per pair is right.
import neo4j from 'neo4j-driver';
import type { StoreOp } from '../runtime/sink.ts';
import { followsTombstoneType as TOMBSTONE, followsType as FOLLOWS, generationLabel, liveLabel, userLabel } from './graph-names.ts';
import type { GraphOp } from './mapping/index.ts';

type Op<K extends GraphOp['kind']> = Extract<GraphOp, { kind: K }>;

/** A batch's ops, newest per target, as driver parameters. */
export type WritePlan = {
  /** per table, the newest truncate's LSN */
  truncates: Partial<Record<'users' | 'follows', number>>;
  users: Array<{ id: neo4j.Integer; lsn: neo4j.Integer; username: string; avatar_url: string | null; bio: string | null; created_at: neo4j.Integer | null }>;
  deletedUsers: Array<{ id: neo4j.Integer; lsn: neo4j.Integer }>;
  pairs: Array<{ follower: neo4j.Integer; followee: neo4j.Integer; lsn: neo4j.Integer; edge: { created_at: neo4j.Integer | null } | null }>;
};

const int = (value: number) => neo4j.int(value);
const intOrNull = (value: number | null) => (value === null ? null : neo4j.int(value));

function newest<T extends { lsn: number }>(into: Map<string, T>, key: string, op: T) {
  const seen = into.get(key);
  if (!seen || op.lsn >= seen.lsn) into.set(key, op);
}

export function planWrites(ops: StoreOp<GraphOp>[]): WritePlan {
  const users = new Map<string, Op<'user'>>();
  const pairs = new Map<string, Op<'follows'>>();
  const truncated: Partial<Record<'users' | 'follows', number>> = {};
  for (const { op } of ops) {
    if (op.kind === 'user') newest(users, String(op.id), op);
    else if (op.kind === 'follows') newest(pairs, `${op.follower}:${op.followee}`, op);
    else truncated[op.table] = Math.max(op.lsn, truncated[op.table] ?? op.lsn);
  }
  const all = [...users.values()];
  return {
    truncates: truncated,
    users: all.flatMap(({ id, lsn, user }) => (user ? [{ id: int(id), lsn: int(lsn), ...user, created_at: intOrNull(user.created_at) }] : [])),
    deletedUsers: all.flatMap(({ id, lsn, user }) => (user ? [] : [{ id: int(id), lsn: int(lsn) }])),
    pairs: [...pairs.values()].map(({ follower, followee, lsn, edge }) => ({
      follower: int(follower),
      followee: int(followee),
      lsn: int(lsn),
      edge: edge && { created_at: intOrNull(edge.created_at) },
    })),
  };
}

/** The statements of one generation; `$live` and `$truncatedAt` come from lockGeneration. */
export function graphWrites(generation: number) {
  const L = userLabel(generation);
  return {
    /** First in every batch: takes the generation node's write lock, so the batches and promotions of a generation never interleave (nor deadlock) */
    lockGeneration: `
      MERGE (g:${generationLabel} {generation: $generation})
        ON CREATE SET g.live = false
      SET g.appliedAt = datetime()
      RETURN g.live AS live, coalesce(g.usersTruncatedAt, -1) AS usersTruncatedAt, coalesce(g.followsTruncatedAt, -1) AS followsTruncatedAt`,

    markTruncated: (property: 'usersTruncatedAt' | 'followsTruncatedAt') => `
      MATCH (g:${generationLabel} {generation: $generation})
      SET g.${property} = CASE WHEN coalesce(g.${property}, -1) < $lsn THEN $lsn ELSE g.${property} END`,

    truncateFollows: `
      MATCH (:${L})-[r:${FOLLOWS}|${TOMBSTONE}]->(:${L}) WHERE r.lsn < $lsn
      DELETE r`,

    /** after truncateFollows: a node older than the truncate goes, unless a newer follow still ends at it */
    deleteUsersBefore: `
      MATCH (u:${L}) WHERE coalesce(u.lsn, -1) < $lsn AND NOT EXISTS { (u)--() }
      DETACH DELETE u`,

    /** what deleteUsersBefore left: endpoints of newer follows, bare until their new users row arrives */
    stripUsersBefore: `
      MATCH (u:${L}) WHERE coalesce(u.lsn, -1) < $lsn
      SET u.username = null, u.avatar_url = null, u.bio = null, u.created_at = null, u.lsn = null, u.deleted = null
      WITH u WHERE $live
      SET u:${liveLabel}`,

    upsertUsers: `
      UNWIND $rows AS row
      WITH row WHERE row.lsn > $truncatedAt
      MERGE (u:${L} {id: row.id})
      WITH u, row WHERE coalesce(u.lsn, -1) < row.lsn
      SET u.username = row.username, u.avatar_url = row.avatar_url, u.bio = row.bio, u.created_at = row.created_at, u.lsn = row.lsn
      REMOVE u.deleted
      WITH u WHERE $live
      SET u:${liveLabel}`,

    deleteUsers: `
      UNWIND $rows AS row
      WITH row WHERE row.lsn > $truncatedAt
      MERGE (u:${L} {id: row.id})
      WITH u, row WHERE coalesce(u.lsn, -1) < row.lsn
      SET u.username = null, u.avatar_url = null, u.bio = null, u.created_at = null, u.lsn = row.lsn, u.deleted = true, u.deleted_lsn = row.lsn
      REMOVE u:${liveLabel}
      WITH u, row
      OPTIONAL MATCH (u)-[r:${FOLLOWS}|${TOMBSTONE}]-()
      WHERE r.lsn < row.lsn
      DELETE r`,

    writePairs: `
      UNWIND $rows AS p
      WITH p WHERE p.lsn > $truncatedAt
      OPTIONAL MATCH (a:${L} {id: p.follower})
      OPTIONAL MATCH (b:${L} {id: p.followee})
      WITH p, a, b WHERE p.lsn > coalesce(a.deleted_lsn, -1) AND p.lsn > coalesce(b.deleted_lsn, -1)
      OPTIONAL MATCH (a)-[r:${FOLLOWS}|${TOMBSTONE}]->(b)
      WITH p, max(r.lsn) AS version
      WHERE version IS NULL OR version < p.lsn
      MERGE (a:${L} {id: p.follower})
      MERGE (b:${L} {id: p.followee})
      WITH p, a, b
      OPTIONAL MATCH (a)-[old:${FOLLOWS}|${TOMBSTONE}]->(b)
      DELETE old
      WITH DISTINCT p, a, b
      FOREACH (_ IN CASE WHEN $live AND a.deleted IS NULL THEN [1] ELSE [] END | SET a:${liveLabel})
      FOREACH (_ IN CASE WHEN $live AND b.deleted IS NULL THEN [1] ELSE [] END | SET b:${liveLabel})
      FOREACH (e IN CASE WHEN p.edge IS NULL THEN [] ELSE [p.edge] END | CREATE (a)-[:${FOLLOWS} {created_at: e.created_at, lsn: p.lsn}]->(b))
      FOREACH (_ IN CASE WHEN p.edge IS NULL THEN [1] ELSE [] END | CREATE (a)-[:${TOMBSTONE} {lsn: p.lsn}]->(b))`,
  };
}
