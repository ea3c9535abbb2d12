// The Cypher a batch runs, and the plan that feeds it. Every node and relationship keeps the
// `version` and `commit_order` of the change that last wrote it (runtime/decode/version.ts),
// both exact 64-bit integers:
//   - a User node is written only by a users change of a higher version: a snapshot read
//     (version 0) thus fills a node the generation lacks, or one only a follow created (bare),
//     and never overwrites a change.
//   - a users delete keeps the node as a tombstone (no `User` label, no properties, `deleted`,
//     `deleted_version`, `deleted_commit_order`), so replaying an older insert cannot bring it
//     back, and removes its relationships from before it in commit order: PostgreSQL's foreign
//     keys mean every follows row of the user was deleted before it, in an earlier transaction
//     or earlier in the same one. The deletion stays after a re-insert of the same id, so a
//     follows change from before it can never reattach; a follows change after it (a snapshot
//     read included: it carries the commit order it was read at) can.
//   - a (follower, followee) pair holds at most one relationship: FOLLOWS while the newest
//     change for the pair says active, else FOLLOWS_TOMBSTONE; either keeps that change's
//     version and commit order. Pair changes from different rows (and partitions) order by
//     (commit order, version), with one tie (pairWins).
//   - a truncate keeps its (commit order, version) on the generation node, per table; anything
//     of that table before it in commit order is removed now and refused later, and what a
//     faster partition already wrote after it stays. Truncating users empties follows too
//     (foreign keys). Applied, not dead-lettered: the truncate stays in the topic, so a replay
//     would meet it again and a dead-lettered one would leave the graph wrong for good.
//   - what a truncate or a users delete removes grows with the data (every relationship of
//     the table, of the user), so the batch's transaction only records it (the truncate on
//     the generation node, the deleted user labelled pending) and the sweep statements remove
//     it afterwards, a chunk per transaction: their rows are matched again inside each chunk,
//     so a chunk repeated or cut short is harmless, and the generation's truncates are marked
//     swept only once they are done. Until then the writes take what the sweep has not reached
//     yet as gone (a node before the truncate is overwritten whatever its version), and readers
//     may still see it (for the moment the sweep takes).
// Within a batch each target (user id, pair) is reduced to its newest op first: the rows of
// one UNWIND all read before any of them writes, so two ops for one target must not meet there.
// The runtime hands over every change, in order (batchChanges 'every-change'), so a row moved
// from pair to pair within a batch has left an op for each pair it left: newest per pair is right.
import neo4j from 'neo4j-driver';
import { isBeforeTruncate, type Ordered } from '../runtime/decode/index.ts';
import type { StoreOp } from '../runtime/sink.ts';
import { followsTombstoneType as TOMBSTONE, followsType as FOLLOWS, generationLabel, isVisible, pendingSweepLabel, seedReaderGraph, userLabel, type ReaderGraph } from './graph-names.ts';
import type { GraphOp } from './mapping/index.ts';

type Op<K extends GraphOp['kind']> = Extract<GraphOp, { kind: K }>;
export type Table = Op<'truncate'>['table'];
type At = { version: neo4j.Integer; commit_order: neo4j.Integer };

/** A batch's ops, newest per target, as driver parameters. */
export type WritePlan = {
  /** per table, the batch's latest truncate in commit order */
  truncates: Partial<Record<Table, Ordered>>;
  users: Array<At & { id: neo4j.Integer; username: string; avatar_url: string | null; bio: string | null; created_at: neo4j.Integer | null }>;
  deletedUsers: Array<At & { id: neo4j.Integer }>;
  pairs: Array<At & { follower: neo4j.Integer; followee: neo4j.Integer; edge: { created_at: neo4j.Integer | null } | null }>;
};

const intOrNull = (value: number | null) => (value === null ? null : neo4j.int(value));

/** Where an op or truncate stands, as parameters; absent (no truncate yet) is before everything. */
export const at = (ordered: Ordered | undefined): At => ({ version: neo4j.int(ordered?.version ?? -1n), commit_order: neo4j.int(ordered?.commitOrder ?? -1n) });

/** The later of two in commit order, as given: `b` only if `a` is absent or strictly before it. */
export const later = (a: Ordered | undefined, b: Ordered | undefined) => (!a ? b : b && isBeforeTruncate(a, b) ? b : a);

/**
 * Does pair op `op` replace what `held` left? The later in commit order does, (commit order,
 * version) compared in that order, not the version alone: the pair is keyed by a unique index,
 * not the rows' primary key, and an unfollow and a follow of one pair can race so that the
 * follow's INSERT carries the lower LSN although it commits after the delete (version.ts). A
 * snapshot read of the pair's row carries the commit order it was read at, so it also takes
 * its place in that order. At an equal (commit order, version) an active FOLLOWS beats a
 * FOLLOWS_TOMBSTONE: one row's changes never tie (each is its own WAL record), and two rows of
 * one pair tie only when one statement moved a key: an update of a follows row's id reaches
 * Debezium as a delete of the old id and a create of the new one, both at that update's LSN,
 * on two partitions. The create is the state after the update, so where the two differ (the
 * new row is active) it must win, in whichever order they arrive; where both are tombstones
 * either is right. writePairs' guard is this same rule in Cypher.
 */
const pairWins = (op: Op<'follows'>, held: Op<'follows'>) =>
  isBeforeTruncate(held, op) || (!isBeforeTruncate(op, held) && (op.edge !== null || held.edge === null));

/** A user's newer change replaces an older one; the later of a batch wins (one row's changes never tie). */
const userWins = (op: Op<'user'>, held: Op<'user'>) => op.version >= held.version;

function keepNewest<T>(into: Map<string, T>, key: string, op: T, wins: (op: T, held: T) => boolean) {
  const held = into.get(key);
  if (!held || wins(op, held)) into.set(key, op);
}

export function planWrites(ops: StoreOp<GraphOp>[]): WritePlan {
  const users = new Map<string, Op<'user'>>();
  const pairs = new Map<string, Op<'follows'>>();
  const truncates: WritePlan['truncates'] = {};
  for (const { op } of ops) {
    if (op.kind === 'user') keepNewest(users, String(op.id), op, userWins);
    else if (op.kind === 'follows') keepNewest(pairs, `${op.follower}:${op.followee}`, op, pairWins);
    else truncates[op.table] = later(truncates[op.table], op);
  }
  const all = [...users.values()];
  return {
    truncates,
    users: all.flatMap((op) => (op.user ? [{ id: neo4j.int(op.id), ...at(op), ...op.user, created_at: intOrNull(op.user.created_at) }] : [])),
    deletedUsers: all.flatMap((op) => (op.user ? [] : [{ id: neo4j.int(op.id), ...at(op) }])),
    pairs: [...pairs.values()].map((op) => ({
      follower: neo4j.int(op.follower),
      followee: neo4j.int(op.followee),
      ...at(op),
      edge: op.edge && { created_at: intOrNull(op.edge.created_at) },
    })),
  };
}

/** The generation node's properties that keep a table's newest truncate. */
const truncateProperties = (table: Table) => ({ commitOrder: `${table}TruncateCommitOrder`, version: `${table}TruncateVersion` });
/** ...and the newest truncate whose sweep has finished (of follows: of the pairs, which a users truncate empties too). */
const sweptProperties = (table: Table) => ({ commitOrder: `${table}SweptCommitOrder`, version: `${table}SweptVersion` });

/** Rows per transaction of a sweep, a relabelling or a drop: a million in one exceed the server's transaction memory. */
export const rowsPerTransaction = 10_000;

/** Cypher: is `a` before `b` in commit order (version.ts isBeforeTruncate)? Each is [commit order, version]; absent is before everything. */
function before([aOrder, aVersion]: [string, string], [bOrder, bVersion]: [string, string]): string {
  const [ao, av, bo, bv] = [aOrder, aVersion, bOrder, bVersion].map((x) => `coalesce(${x}, -1)`);
  return `(${ao} < ${bo} OR (${ao} = ${bo} AND ${av} < ${bv}))`;
}
const written = (x: string): [string, string] => [`${x}.commit_order`, `${x}.version`];
const deleted = (u: string): [string, string] => [`${u}.deleted_commit_order`, `${u}.deleted_version`];
const truncate = written('$truncate');

/**
 * The statements of one generation, labelling for `readers`; `$live` and `$truncate` ({version,
 * commit_order}) come from lockGeneration's state.
 */
export function graphWrites(generation: number, readers: ReaderGraph = seedReaderGraph) {
  const L = userLabel(generation);
  const { label: liveLabel, liveFlag } = readers;
  const [users, follows] = [truncateProperties('users'), truncateProperties('follows')];
  const [usersSwept, followsSwept] = [sweptProperties('users'), sweptProperties('follows')];
  const generationNode = `(g:${generationLabel} {generation: $generation})`;
  // first in every chunk of a sweep, as in every batch: chunks and batches of the generation never interleave
  const lock = `MATCH ${generationNode} SET g.sweptAt = datetime()`;
  /** Runs `body` per row of `driving` (which yields `id`, an element id), a chunk per transaction, the generation locked in each. */
  const chunked = (driving: string, body: string) => `${driving} CALL (id) { ${lock} WITH g ${body} } IN TRANSACTIONS OF ${rowsPerTransaction} ROWS`;
  /** chunked, for `action` on each `x` of `pattern` that meets `condition`: met when driven and again inside its chunk */
  const chunkedWhere = (pattern: string, x: string, condition: string, action: string) =>
    chunked(`MATCH ${pattern} WHERE ${condition} WITH elementId(${x}) AS id`, `MATCH ${pattern} WHERE elementId(${x}) = id AND ${condition} ${action}`);
  // the generation node's truncates, kept and swept, as lockGeneration and readTruncates return them
  const truncateFields = `toString(g.${users.commitOrder}) AS usersCommitOrder, toString(g.${users.version}) AS usersVersion,
        toString(g.${follows.commitOrder}) AS followsCommitOrder, toString(g.${follows.version}) AS followsVersion,
        toString(g.${usersSwept.commitOrder}) AS usersSweptCommitOrder, toString(g.${usersSwept.version}) AS usersSweptVersion,
        toString(g.${followsSwept.commitOrder}) AS followsSweptCommitOrder, toString(g.${followsSwept.version}) AS followsSweptVersion`;
  const usersPending = `EXISTS { (:${L}:${pendingSweepLabel}) }`;
  return {
    /** First in every batch: takes the generation node's write lock, so the batches and promotions of a generation never interleave (nor deadlock) */
    lockGeneration: `
      MERGE (g:${generationLabel} {generation: $generation})
        ON CREATE SET g.format = $format
      SET g.appliedAt = datetime()
      RETURN coalesce(g.${liveFlag}, false) AS live, ${truncateFields}, ${usersPending} AS usersPending`,

    /** What a sweep needs to know: the truncates kept and swept (as lockGeneration), read without the lock. */
    readTruncates: `
      MATCH ${generationNode}
      RETURN ${truncateFields}`,

    /** only ever with a later truncate than the one kept: the lock is held */
    markTruncated: (table: Table) => `
      MATCH ${generationNode}
      SET g.${truncateProperties(table).commitOrder} = $truncate.commit_order, g.${truncateProperties(table).version} = $truncate.version`,

    /** Sweep, chunked: every pair before `$truncate`. */
    truncateFollows: chunkedWhere(`(:${L})-[r:${FOLLOWS}|${TOMBSTONE}]->(:${L})`, 'r', before(written('r'), truncate), 'DELETE r'),

    /** Sweep, after truncateFollows: a node before the truncate goes, unless a later follow still ends at it. */
    deleteUsersBefore: chunkedWhere(`(u:${L})`, 'u', `${before(written('u'), truncate)} AND NOT EXISTS { (u)--() }`, 'DETACH DELETE u'),

    /** Sweep: what deleteUsersBefore left, endpoints of later follows, bare until their new users row arrives. */
    stripUsersBefore: chunkedWhere(
      `(u:${L})`,
      'u',
      `${before(written('u'), truncate)} AND u.version IS NOT NULL`,
      `SET u.username = null, u.avatar_url = null, u.bio = null, u.created_at = null, u.version = null, u.commit_order = null, u.deleted = null
       WITH u, g WHERE coalesce(g.${liveFlag}, false)
       SET u:${liveLabel}`,
    ),

    /** A table's truncate `$truncate` swept (only ever raised). */
    markSwept: (table: Table) => `
      MATCH ${generationNode}
      WITH g WHERE ${before([`g.${sweptProperties(table).commitOrder}`, `g.${sweptProperties(table).version}`], truncate)}
      SET g.${sweptProperties(table).commitOrder} = $truncate.commit_order, g.${sweptProperties(table).version} = $truncate.version`,

    /** Sweep, chunked: the pairs from before the deletion of a user labelled pending (PostgreSQL's foreign keys had them deleted already). */
    sweepDeletedUsers: chunked(
      `MATCH (u:${L}:${pendingSweepLabel})-[r:${FOLLOWS}|${TOMBSTONE}]-() WHERE ${before(written('r'), deleted('u'))} WITH elementId(r) AS id`,
      // no DISTINCT (it would hold every id at once): a relationship met from both ends is a no-op the second time
      `MATCH (a:${L})-[r]->(b:${L}) WHERE elementId(r) = id AND (${before(written('r'), deleted('a'))} OR ${before(written('r'), deleted('b'))}) DELETE r`,
    ),

    /** After sweepDeletedUsers: a pending user none of whose earlier pairs is left is done. */
    unmarkSweptUsers: chunkedWhere(`(u:${L}:${pendingSweepLabel})`, 'u', `NOT EXISTS { (u)-[r:${FOLLOWS}|${TOMBSTONE}]-() WHERE ${before(written('r'), deleted('u'))} }`, `REMOVE u:${pendingSweepLabel}`),

    /** Tombstones below the follows topic's horizon (runtime/tombstones/horizon.ts): no retained follows change is older. */
    collectPairTombstones: chunkedWhere(`(:${L})-[r:${TOMBSTONE}]->(:${L})`, 'r', 'r.commit_order < $horizon', 'DELETE r'),

    /** Deleted users below `$horizon` (the lower of the users' and the follows' topics: both are refused by it) with nothing left to sweep. */
    collectUserTombstones: chunkedWhere(`(u:${L})`, 'u', `u.deleted AND u.deleted_commit_order < $horizon AND NOT u:${pendingSweepLabel} AND NOT EXISTS { (u)--() }`, 'DELETE u'),

    /** Whether any user of the generation waits for its sweep (a crash between a delete's batch and its sweep). */
    pendingUsers: `RETURN ${usersPending} AS pending`,

    upsertUsers: `
      UNWIND $rows AS row
      WITH row WHERE NOT ${before(written('row'), truncate)}
      MERGE (u:${L} {id: row.id})
      WITH u, row WHERE coalesce(u.version, -1) < row.version OR ${before(written('u'), truncate)}
      SET u.username = row.username, u.avatar_url = row.avatar_url, u.bio = row.bio, u.created_at = row.created_at,
          u.version = row.version, u.commit_order = row.commit_order
      REMOVE u.deleted
      WITH u WHERE $live
      SET u:${liveLabel}`,

    deleteUsers: `
      UNWIND $rows AS row
      WITH row WHERE NOT ${before(written('row'), truncate)}
      MERGE (u:${L} {id: row.id})
      WITH u, row WHERE coalesce(u.version, -1) < row.version OR ${before(written('u'), truncate)}
      SET u.username = null, u.avatar_url = null, u.bio = null, u.created_at = null, u.version = row.version, u.commit_order = row.commit_order,
          u.deleted = true, u.deleted_version = row.version, u.deleted_commit_order = row.commit_order
      REMOVE u:${liveLabel}
      // a user with few relationships loses them here, in the batch (readers never see them
      // linger); one with more than a sweep's chunk is left to the sweep
      WITH u, row, COUNT { (u)-[:${FOLLOWS}|${TOMBSTONE}]-() } > ${rowsPerTransaction} AS large
      FOREACH (_ IN CASE WHEN large THEN [1] ELSE [] END | SET u:${pendingSweepLabel})
      WITH u, row, large
      OPTIONAL MATCH (u)-[r:${FOLLOWS}|${TOMBSTONE}]-() WHERE NOT large AND ${before(written('r'), written('row'))}
      DELETE r`,

    writePairs: `
      UNWIND $rows AS p
      WITH p WHERE NOT ${before(written('p'), truncate)}
      OPTIONAL MATCH (a:${L} {id: p.follower})
      OPTIONAL MATCH (b:${L} {id: p.followee})
      WITH p, a, b WHERE NOT ${before(written('p'), deleted('a'))} AND NOT ${before(written('p'), deleted('b'))}
      OPTIONAL MATCH (a)-[r:${FOLLOWS}|${TOMBSTONE}]->(b)
      WITH p, collect(r) AS held
      WHERE all(r IN held WHERE ${before(written('r'), written('p'))} OR (r.commit_order = p.commit_order AND r.version = p.version AND p.edge IS NOT NULL AND type(r) = '${TOMBSTONE}'))
      MERGE (a:${L} {id: p.follower})
      MERGE (b:${L} {id: p.followee})
      WITH p, a, b
      OPTIONAL MATCH (a)-[old:${FOLLOWS}|${TOMBSTONE}]->(b)
      DELETE old
      WITH DISTINCT p, a, b
      FOREACH (_ IN CASE WHEN $live AND ${isVisible('a')} THEN [1] ELSE [] END | SET a:${liveLabel})
      FOREACH (_ IN CASE WHEN $live AND ${isVisible('b')} THEN [1] ELSE [] END | SET b:${liveLabel})
      FOREACH (e IN CASE WHEN p.edge IS NULL THEN [] ELSE [p.edge] END | CREATE (a)-[:${FOLLOWS} {created_at: e.created_at, version: p.version, commit_order: p.commit_order}]->(b))
      FOREACH (_ IN CASE WHEN p.edge IS NULL THEN [1] ELSE [] END | CREATE (a)-[:${TOMBSTONE} {version: p.version, commit_order: p.commit_order}]->(b))`,
  };
}
