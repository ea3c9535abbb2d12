// What a batch does to one embedding collection, decided from what the generation holds for the
// batch's keys. Pure. Milvus has no conditional write, so the guards live here, each exact by
// runtime/decode/version.ts:
//   - the newest truncate known (stored, or in the batch) removes every row before it in commit
//     order, and an op before it is skipped: it was removed, whichever partition brought it late;
//   - an op applies only when its version is above the key's live row and tombstone (those the
//     truncate left): a snapshot read (version 0) therefore only fills a key the generation
//     lacks, and anything else was applied already or has been superseded.
// The records the collection cannot hold are refused here, before anything is sent, so that they
// go to the dead-letter topic one by one instead of failing the whole request.
import { UNCHANGED, isBeforeTruncate, type Ordered } from '../runtime/decode/index.ts';
import type { Rejected, StoreOp } from '../runtime/sink.ts';
import { EMBEDDING_DIM, MODEL_VERSION_MAX_BYTES } from './collections.ts';
import type { MilvusOp } from './mapping/index.ts';

/** A live row's order, and its values when the batch asked for them (to fill UNCHANGED columns). */
export type StoredRow = Ordered & { embedding?: number[]; model_version?: string };

export type StoredState = {
  rows: Map<number, StoredRow>;
  /** deleted keys: the order of their delete */
  tombstones: Map<number, Ordered>;
  /** the newest truncate applied */
  truncate: Ordered | null;
};

/** A whole row, ready to upsert. */
export type EmbeddingRow = Ordered & { key: number; embedding: number[]; model_version: string; updated_at: number };

export type CollectionPlan = {
  /** delete every row before it in commit order, then remember it */
  truncate: Ordered | null;
  deletes: Array<Ordered & { key: number }>;
  upserts: EmbeddingRow[];
  rejected: Rejected[];
};

type KeyedOp = Exclude<MilvusOp, { kind: 'truncate' }>;
type Upsert = Extract<MilvusOp, { kind: 'upsert' }>;

/** The later of two truncates in commit order. */
const later = (a: Ordered | null, b: Ordered | null): Ordered | null => (a === null || (b !== null && isBeforeTruncate(a, b)) ? b : a);

/** Why Milvus cannot hold this vector, or undefined when it can (float32, finite, the collection's dimension). */
export function vectorProblem(vector: ReadonlyArray<number | null>): string | undefined {
  if (vector.length !== EMBEDDING_DIM) return `embedding has ${vector.length} dimensions, the collection holds ${EMBEDDING_DIM}`;
  const bad = vector.findIndex((x) => typeof x !== 'number' || !Number.isFinite(Math.fround(x)));
  return bad === -1 ? undefined : `embedding[${bad}] is ${vector[bad]}: Milvus stores finite float32 values only`;
}

/** Does any upsert need the stored values (a column PostgreSQL did not send)? */
export const needsStoredValues = (ops: StoreOp<MilvusOp>[]) =>
  ops.some(({ op }) => op.kind === 'upsert' && (op.values.embedding === UNCHANGED || op.values.model_version === UNCHANGED));

/** The whole row an upsert writes, its UNCHANGED columns taken from the stored row; a reason when it cannot be written. */
function resolveRow(op: Upsert, stored: StoredRow | undefined): EmbeddingRow | string {
  const { embedding, model_version, updated_at } = op.values;
  const { key, version, commitOrder } = op;
  const vector = embedding === UNCHANGED ? stored?.embedding : embedding;
  const model = model_version === UNCHANGED ? stored?.model_version : model_version;
  if (vector === undefined || model === undefined) {
    const column = vector === undefined ? 'embedding' : 'model_version';
    return `${op.collection} ${op.key}: ${column} was not sent (unchanged TOAST value) and this generation holds no earlier row to keep it from; rebuild the generation from PostgreSQL`;
  }
  const problem = vectorProblem(vector) ?? (Buffer.byteLength(model) > MODEL_VERSION_MAX_BYTES ? `model_version is longer than ${MODEL_VERSION_MAX_BYTES} bytes` : undefined);
  if (problem) return `${op.collection} ${op.key}: ${problem}`;
  return { key, version, commitOrder, embedding: vector as number[], model_version: model, updated_at };
}

export function planCollection(ops: StoreOp<MilvusOp>[], stored: StoredState): CollectionPlan {
  const plan: CollectionPlan = { truncate: null, deletes: [], upserts: [], rejected: [] };
  const batchTruncate = ops.reduce<Ordered | null>((newest, { op }) => (op.kind === 'truncate' ? later(newest, { version: op.version, commitOrder: op.commitOrder }) : newest), null);
  // a truncate already remembered has run: its rows are gone (the sink deletes, then remembers)
  if (batchTruncate !== null && (stored.truncate === null || isBeforeTruncate(stored.truncate, batchTruncate))) plan.truncate = batchTruncate;
  const truncate = later(stored.truncate, batchTruncate);
  const survives = (order: Ordered) => truncate === null || !isBeforeTruncate(order, truncate);
  // what the truncate removed (or is about to) no longer stands for its key
  const kept = <T extends Ordered>(order: T | undefined) => (order !== undefined && survives(order) ? order : undefined);

  // the runtime reduces a batch to one change per key; should one repeat, the newest wins
  const newest = new Map<number, StoreOp<KeyedOp>>();
  for (const item of ops) {
    if (item.op.kind === 'truncate' || !survives(item.op)) continue;
    const seen = newest.get(item.op.key);
    if (!seen || item.op.version >= seen.op.version) newest.set(item.op.key, item as StoreOp<KeyedOp>);
  }
  for (const [key, { op, change }] of newest) {
    const row = kept(stored.rows.get(key));
    const tombstone = kept(stored.tombstones.get(key));
    if ((row && op.version <= row.version) || (tombstone && op.version <= tombstone.version)) continue;
    if (op.kind === 'delete') {
      plan.deletes.push({ key, version: op.version, commitOrder: op.commitOrder });
      continue;
    }
    const resolved = resolveRow(op, row);
    if (typeof resolved === 'string') plan.rejected.push({ position: change.position, reason: resolved });
    else plan.upserts.push(resolved);
  }
  return plan;
}
