// What a generation's embedding collections must hold, from PostgreSQL (the source of truth),
// and what they do hold, read back from Milvus a page at a time, compared per key: vectors
// within a float tolerance (Milvus stores float32), everything else exactly. The reconcile
// tool's comparison and the end-to-end tests' oracle. The projector deletes what PostgreSQL
// deletes (its tombstones live apart), so each collection must hold exactly the table's rows.
//
// Keys are the primary keys as decimal strings, as the SDK and pg return BIGINTs: a key Milvus
// holds may be beyond 2^53.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import pg from 'pg';
import { novaConfig } from '../../config/nova-config.ts';
import { describeVersion } from '../runtime/decode/index.ts';
import type { CompareWithPostgres, Drift } from '../runtime/sink.ts';
import { collectionName, embeddingCollections, primaryKeys } from './collections.ts';
import type { EmbeddingCollection } from './mapping/index.ts';
import { call, connectMilvus, int64Of, loadCollection } from './milvus-call.ts';
import { vectorProblem } from './plan.ts';

export type Embedding = { embedding: number[]; model_version: string; updated_at: number };
/** what Milvus holds, and the version of the change that wrote it */
export type StoredEmbedding = Embedding & { version: bigint };
/** rows by primary key */
export type Rows<T> = Map<string, T>;

/**
 * Rows per read: inside the 16384-row window a Milvus server allows one query, and far below
 * the 256 MB a milvus-lite answer may carry (a row is about 1 KB; milvus-lite has no row cap).
 * milvus-lite scans the whole collection for every query, so fewer, larger pages are faster.
 */
export const PAGE_SIZE = 5_000;

/** A key fit for a filter expression or a bigint parameter; anything else is refused. */
function keyText(key: number | string): string {
  const text = String(key);
  if (!/^-?\d{1,19}$/.test(text)) throw new Error(`milvus: ${JSON.stringify(text)} is not an embedding key`);
  return text;
}

/** Ascending by key as a number. */
export const byKey = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

const outputFields = (collection: EmbeddingCollection) => [primaryKeys[collection], 'embedding', 'model_version', 'updated_at', 'version'];

const pageOf = (collection: EmbeddingCollection, data: Array<Record<string, unknown>>): Rows<StoredEmbedding> =>
  new Map(data.map((r) => [String(r[primaryKeys[collection]]), { embedding: r['embedding'] as number[], model_version: String(r['model_version']), updated_at: Number(r['updated_at']), version: int64Of(r['version']) }]));

export type ReadOptions = { keys?: Iterable<number | string>; pageSize?: number };

/**
 * The generation's rows of `collection`: those of `keys`, or every row, `pageSize` at a time.
 * Every row is read in key order, each page after the last key of the one before: without
 * `iterator`, milvus-lite answers in storage order, where an upsert moves its row, so offsets
 * would skip or repeat rows written while the collection is read. A server that ignores the
 * order is refused rather than read wrong.
 */
export async function* readPages(client: MilvusClient, generation: number, collection: EmbeddingCollection, { keys, pageSize = PAGE_SIZE }: ReadOptions = {}): AsyncGenerator<Rows<StoredEmbedding>> {
  const name = collectionName(collection, generation);
  const key = primaryKeys[collection];
  const read = (filter: string, paging: { limit?: number; params?: Record<string, unknown> } = {}) =>
    call(client, `read ${name}`, () => client.query({ collection_name: name, filter, output_fields: outputFields(collection), ...paging }), { collection: name });
  if (keys !== undefined) {
    const list = [...new Set([...keys].map(keyText))];
    for (let i = 0; i < list.length; i += pageSize) yield pageOf(collection, (await read(`${key} in [${list.slice(i, i + pageSize).join(', ')}]`)).data);
    return;
  }
  let after: bigint | undefined;
  for (;;) {
    const { data } = await read(after === undefined ? '' : `${key} > ${after}`, { limit: pageSize, params: { iterator: true } });
    for (const found of data.map((r) => BigInt(String(r[key])))) {
      if (after !== undefined && found <= after) throw new Error(`milvus: ${name} did not return its rows in key order, so it cannot be read in pages`);
      after = found;
    }
    if (data.length > 0) yield pageOf(collection, data);
    if (data.length < pageSize) return;
  }
}

/** What PostgreSQL holds for `keys`, or for every row (each collection is named after its source table). */
export async function expectedFromPostgres(db: pg.Client, collection: EmbeddingCollection, keys?: Iterable<number | string>): Promise<Rows<Embedding>> {
  const key = primaryKeys[collection];
  // updated_at as the mapping has it: milliseconds, truncated like the decoder's Date
  const select = `SELECT ${key}::text AS key, embedding, model_version, floor(extract(epoch from updated_at) * 1000)::bigint AS updated_at FROM ${collection}`;
  const { rows } = keys === undefined ? await db.query(select) : await db.query(`${select} WHERE ${key} = ANY($1::bigint[])`, [[...keys].map(keyText)]);
  return new Map(rows.map((r) => [String(r.key), { embedding: (r.embedding as Array<number | string>).map(Number), model_version: String(r.model_version), updated_at: Number(r.updated_at) }]));
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms));

function vectorDifference(want: number[], got: number[]): string | undefined {
  if (want.length !== got.length) return `embedding (${want.length} dimensions expected, ${got.length} found)`;
  const differing = want.flatMap((x, i) => (close(x, got[i] as number) ? [] : [i]));
  const [first] = differing;
  if (first === undefined) return undefined;
  return `embedding (${differing.length} of ${want.length} values; [${first}] ${want[first]} expected, ${got[first]} found)`;
}

/** How one key's row differs, in a short line; undefined when it does not. */
function rowDifference(want: Embedding | undefined, got: StoredEmbedding | undefined): string | undefined {
  if (!got) {
    if (!want) return undefined;
    const refused = vectorProblem(want.embedding);
    return `missing: PostgreSQL has model ${want.model_version}${refused ? ` (${refused}: the projector dead-letters it)` : ''}`;
  }
  const written = `(version ${describeVersion(got.version)})`;
  if (!want) return `not in PostgreSQL: Milvus holds model ${got.model_version} ${written}`;
  const fields = [
    vectorDifference(want.embedding, got.embedding),
    want.model_version !== got.model_version && `model_version (${JSON.stringify(want.model_version)} expected, ${JSON.stringify(got.model_version)} found)`,
    want.updated_at !== got.updated_at && `updated_at (${iso(want.updated_at)} expected, ${iso(got.updated_at)} found)`,
  ].filter((field): field is string => typeof field === 'string');
  return fields.length > 0 ? `differs in ${fields.join(', ')} ${written}` : undefined;
}

/** Every key of `keys` (by default, of either side) whose row differs, as drift. */
export function differences(collection: EmbeddingCollection, expected: Rows<Embedding>, actual: Rows<StoredEmbedding>, keys: Iterable<string> = new Set([...expected.keys(), ...actual.keys()])): Drift[] {
  const drift: Drift[] = [];
  for (const key of keys) {
    const detail = rowDifference(expected.get(key), actual.get(key));
    if (detail) drift.push({ view: collection, key, detail });
  }
  return drift;
}

/**
 * How one collection of the generation differs from PostgreSQL, over `keys` or whole. Read
 * page by page, each page compared and let go, so only PostgreSQL's rows are held whole.
 */
export async function compareCollection(db: pg.Client, client: MilvusClient, generation: number, collection: EmbeddingCollection, keys?: Iterable<number | string>): Promise<Drift[]> {
  const name = collectionName(collection, generation);
  if (!(await loadCollection(client, name))) throw new Error(`milvus: generation ${generation} has no ${name}`);
  const expected = await expectedFromPostgres(db, collection, keys);
  const drift: Drift[] = [];
  for await (const page of readPages(client, generation, collection, { keys })) {
    drift.push(...differences(collection, expected, page, page.keys()));
    for (const key of page.keys()) expected.delete(key);
  }
  drift.push(...differences(collection, expected, new Map())); // rows no page held
  return drift.sort((a, b) => byKey(a.key, b.key));
}

/** The embeddings of a generation that differ from PostgreSQL, as drift: views `user_embeddings`, `post_embeddings`. */
export const compareMilvusWithPostgres: CompareWithPostgres = async ({ generation, env, only }) => {
  const config = novaConfig(env);
  const address = config.milvusAddress();
  const db = new pg.Client({ connectionString: config.databaseUrl() });
  let client: MilvusClient | undefined;
  try {
    await db.connect();
    client = await connectMilvus(address);
    const drift: Drift[] = [];
    for (const collection of embeddingCollections) {
      const keys = only && only.get(collection);
      if (only && !keys?.size) continue;
      drift.push(...(await compareCollection(db, client, generation, collection, keys)));
    }
    return drift;
  } finally {
    await Promise.all([db.end(), client?.closeConnection()]);
  }
};
