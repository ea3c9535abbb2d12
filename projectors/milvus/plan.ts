// What a batch does to one embedding collection, decided from what the generation holds for the
// batch's keys. Pure. Milvus has no conditional write, so the guards live here: an op applies
// only when its LSN is newer than the key's live row, its tombstone and the collection's last
// truncate; anything else was applied already or has been superseded. The records the
// collection cannot hold are refused here, before anything is sent, so that they go to the
// dead-letter topic one by one instead of failing the whole request.
import { UNCHANGED } from '../runtime/decode/index.ts';
import type { Rejected, StoreOp } from '../runtime/sink.ts';
import { EMBEDDING_DIM, MODEL_VERSION_MAX_BYTES } from './collections.ts';
import type { MilvusOp } from './mapping/index.ts';

/** A live row's LSN, and its values when the batch asked for them (to fill UNCHANGED columns). */
export type StoredRow = { lsn: number; embedding?: number[]; model_version?: string };

export type StoredState = {
  rows: Map<number, StoredRow>;
  /** deleted keys: the LSN of their delete */
  tombstones: Map<number, number>;
  /** the LSN of the newest truncate applied */
  truncatedAt: number | null;
};

/** A whole row, ready to upsert. */
export type EmbeddingRow = { key: number; lsn: number; embedding: number[]; model_version: string; updated_at: number };

export type CollectionPlan = {
  /** delete every row with a lower LSN, then remember the truncate */
  truncateBefore: number | null;
  deletes: Array<{ key: number; lsn: number }>;
  upserts: EmbeddingRow[];
  rejected: Rejected[];
};

type KeyedOp = Exclude<MilvusOp, { kind: 'truncate' }>;
type Upsert = Extract<MilvusOp, { kind: 'upsert' }>;

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
  const vector = embedding === UNCHANGED ? stored?.embedding : embedding;
  const model = model_version === UNCHANGED ? stored?.model_version : model_version;
  if (vector === undefined || model === undefined) {
    const column = vector === undefined ? 'embedding' : 'model_version';
    return `${op.collection} ${op.key}: ${column} was not sent (unchanged TOAST value) and this generation holds no earlier row to keep it from; rebuild the generation from PostgreSQL`;
  }
  const problem = vectorProblem(vector) ?? (Buffer.byteLength(model) > MODEL_VERSION_MAX_BYTES ? `model_version is longer than ${MODEL_VERSION_MAX_BYTES} bytes` : undefined);
  if (problem) return `${op.collection} ${op.key}: ${problem}`;
  return { key: op.key, lsn: op.lsn, embedding: vector as number[], model_version: model, updated_at };
}

export function planCollection(ops: StoreOp<MilvusOp>[], stored: StoredState): CollectionPlan {
  const plan: CollectionPlan = { truncateBefore: null, deletes: [], upserts: [], rejected: [] };
  const truncates = ops.flatMap(({ op }) => (op.kind === 'truncate' ? [op.lsn] : []));
  const newestTruncate = truncates.length > 0 ? Math.max(...truncates) : null;
  // a truncate already remembered has run: its rows are gone (the sink deletes, then remembers)
  if (newestTruncate !== null && (stored.truncatedAt === null || newestTruncate > stored.truncatedAt)) plan.truncateBefore = newestTruncate;
  const floor = Math.max(stored.truncatedAt ?? -1, newestTruncate ?? -1);

  // the runtime reduces a batch to one change per key; should one repeat, the newest wins
  const newest = new Map<number, StoreOp<KeyedOp>>();
  for (const item of ops) {
    if (item.op.kind === 'truncate') continue;
    const seen = newest.get(item.op.key);
    if (!seen || item.op.lsn > seen.op.lsn) newest.set(item.op.key, item as StoreOp<KeyedOp>);
  }
  for (const [key, { op, change }] of newest) {
    const row = stored.rows.get(key);
    if (op.lsn <= Math.max(floor, row?.lsn ?? -1, stored.tombstones.get(key) ?? -1)) continue;
    if (op.kind === 'delete') {
      plan.deletes.push({ key, lsn: op.lsn });
      continue;
    }
    const resolved = resolveRow(op, row);
    if (typeof resolved === 'string') plan.rejected.push({ position: change.position, reason: resolved });
    else plan.upserts.push(resolved);
  }
  return plan;
}
