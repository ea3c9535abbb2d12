// The ports a store implements. A projector is mapping (pure) + sink (I/O) + checkpoint;
// the runtime does everything else.
import type { Change } from './decode/index.ts';
import type { Position } from './errors.ts';

/**
 * How far one partition has been applied to the store: the next offset to read, and the commit
 * order of the newest change applied from it (decode/version.ts; its top bits are the source
 * epoch), null before any. Stores keep commitOrder as a 64-bit integer: it passes 2^53 once the
 * epoch is above 0.
 */
export type Checkpoint = { topic: string; partition: number; nextOffset: string; commitOrder: bigint | null };

/** A store operation for one source change; the store decides what it holds. */
export type StoreOp<Op = unknown> = { op: Op; change: Change };

/** Pure: what a change means to this store. Never awaits, never does I/O. */
export type Mapping<Op> = (change: Change) => Op[];

/** A record the store refused; the runtime dead-letters it and the rest flows on. */
export type Rejected = { position: Position; reason: string };

export interface Sink<Op> {
  /**
   * Applies the batch's ops (in order, each guarded by its change's version so an older change
   * never overwrites a newer one, and by truncates' commit order) and records the checkpoints, one per partition the batch
   * covers: together where the store allows it, else the checkpoints after the effects.
   * Records the store refused are handed to onRejected before a checkpoint passes them, so
   * none is lost.
   */
  apply(ops: StoreOp<Op>[], checkpoints: Checkpoint[], onRejected: (rejected: Rejected[]) => Promise<void>, call?: SinkCall): Promise<void>;
  /**
   * For a store that cannot refuse an older write itself: called with every new assignment
   * before its checkpoints are read, so that the sink can fence the partitions' previous holder
   * (an owner epoch, Milvus). Stores whose every write is guarded by version need none.
   */
  claim?(partitions: Array<Pick<Checkpoint, 'topic' | 'partition'>>): Promise<void>;
  close(): Promise<void>;
}

/**
 * About one apply call, for wrappers (and stores that want it): `signal` aborts once the call's
 * partitions are revoked (another instance holds them now), so a retry loop gives up instead
 * of writing after its successor. A store may ignore it: its effects are guarded by version.
 */
export type SinkCall = { signal?: AbortSignal };

export interface CheckpointStore {
  load(): Promise<Checkpoint[]>;
}

export type ProjectorContext = {
  generation: number;
  env: NodeJS.ProcessEnv;
  /**
   * A generation readers must not see (a rebuild, a shadow run, a tool that only reads, a
   * test): createSink never points the live name at it, even while nothing is live yet.
   */
  shadow?: boolean;
};

/**
 * Blue/green over generations: which one readers see, pointing them at another in one atomic
 * step, and removing one nobody reads any more.
 */
export interface Generations {
  live(env: NodeJS.ProcessEnv): Promise<number | undefined>;
  promote(generation: number, env: NodeJS.ProcessEnv): Promise<void>;
  /** refuses the live generation */
  drop(generation: number, env: NodeJS.ProcessEnv): Promise<void>;
}

/** One key of a view that does not hold what PostgreSQL says it should. */
export type Drift = { view: string; key: string; detail: string };

/** Some keys per view. */
export type DriftKeys = Map<string, Set<string>>;

/**
 * Compares a generation with what PostgreSQL says it should hold: whole, or only the keys in
 * `only` (the reconcile tool re-checks those once the projector has caught up).
 */
export type CompareWithPostgres = (context: { generation: number; env: NodeJS.ProcessEnv; only?: DriftKeys }) => Promise<Drift[]>;

/** Everything the runtime, and the replay and reconcile tools, need to know about one store. */
export type ProjectorDefinition<Op = unknown> = {
  name: string;
  topics: string[];
  mapping: Mapping<Op>;
  createSink(context: ProjectorContext): Promise<Sink<Op> & CheckpointStore>;
  /**
   * 'newest-per-key' (the default): a batch keeps only each row's newest change, which is all a
   * store that addresses rows by key needs. 'every-change': the mapping derives state from
   * `before` (the pair a follow leaves, the status a stream leaves), so every change must reach
   * it, in order; keeping only the newest would lose the `before` the store last saw.
   */
  batchChanges?: 'newest-per-key' | 'every-change';
  /** absent while a store has no blue/green support yet: rebuild still fills a generation */
  generations?: Generations;
  /** absent while a store has no reconcile support yet */
  compareWithPostgres?: CompareWithPostgres;
  /** absent where a store keeps its tombstones for good (or has none) */
  collectTombstones?: CollectTombstones;
};

/**
 * Forgets a generation's tombstones that no retained record can need any more: those below the
 * horizon (runtime/tombstones/horizon.ts) of the topics whose older changes they refuse.
 * Returns how many went, per kind. Safe beside a running projector of the generation.
 */
export type CollectTombstones = (context: { generation: number; env: NodeJS.ProcessEnv; horizon: (topic: string) => bigint }) => Promise<Record<string, number>>;
