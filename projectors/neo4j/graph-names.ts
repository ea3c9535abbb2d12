// The names readers use (the seed's contract, section 4.2) and the projector's own.
//
// Generations (blue/green): Neo4j Community has one database, so every generation lives in
// it side by side. Each node of generation N carries the label `User_gN`, which the writes
// address and the per-generation uniqueness constraint covers; the nodes of the live
// generation also carry `User`, the label readers query, so a shadow generation being filled
// is invisible to them. FOLLOWS only ever joins two nodes of one generation, so a traversal
// that starts at a `User` stays in the live one. Nova's own readers (views.ts) query `User_gN`
// of the live N, so a promotion is one flag for them; `User` is kept for everyone else, moved
// in chunks after the flag (generations.ts): mixed while it moves. Both generations take disk
// and page cache while they coexist.
//
// A reader namespace (runtime/reader-namespace.ts) has a label and a live flag of its own
// (readerGraph); the generations and their bookkeeping are shared by number.
import { readerName, readerNamespace } from '../runtime/reader-namespace.ts';

export const liveLabel = 'User';
export const followsType = 'FOLLOWS';
/** A pair that does not follow (any more): remembers the version that ended it, invisible to readers. */
export const followsTombstoneType = 'FOLLOWS_TOMBSTONE';
/** One per generation: its lock, whether it is live, its format (format.ts), and its tables' newest truncates. */
export const generationLabel = 'NovaGeneration';
export const checkpointLabel = 'NovaCheckpoint';
/** A deleted user whose earlier relationships the sweep has still to remove (graph-writes.ts). */
export const pendingSweepLabel = 'NovaPendingSweep';

/**
 * The generation's node label. Labels cannot be query parameters, so this is the one name
 * built into Cypher text; it comes from a checked integer, never from change data.
 */
export function userLabel(generation: number): string {
  if (!Number.isSafeInteger(generation) || generation < 1) throw new Error(`neo4j: a generation is a positive integer, not ${generation}`);
  return `User_g${generation}`;
}

/**
 * Cypher: is node `u` of a generation one readers see? A users delete leaves a tombstone
 * (`deleted`) they must not; every other node they do. Promoting labels exactly these `User`,
 * and writes into the live generation keep it so.
 */
export const isVisible = (u: string) => `${u}.deleted IS NULL`;

export const userConstraint = (generation: number) => `nova_user_g${generation}_id`;

/**
 * What shows readers of one namespace which generation is live: the label they query, the
 * (:NovaGeneration) property that flags the live one, the index on the label. Built into
 * Cypher text: the namespace is a checked identifier, never change data.
 */
export type ReaderGraph = { readonly label: string; readonly liveFlag: string; readonly labelIndex: string };

export const seedReaderGraph: ReaderGraph = { label: liveLabel, liveFlag: 'live', labelIndex: 'nova_user_id' };

export function readerGraph(env: NodeJS.ProcessEnv): ReaderGraph {
  const namespace = readerNamespace(env);
  return namespace === undefined ? seedReaderGraph : { label: readerName(liveLabel, env), liveFlag: `live_${namespace}`, labelIndex: `nova_user_id_${namespace}` };
}
