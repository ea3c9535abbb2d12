// What only the tests need on top of the reconcile comparison (../drift.ts): a collection's
// rows held whole, everything a generation holds, for two reads to be compared, what its
// readers see, and keys held twice.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { collectionName, embeddingCollections, primaryKeys } from '../collections.ts';
import { byKey, readPages, type ReadOptions, type Rows, type StoredEmbedding } from '../drift.ts';
import type { EmbeddingCollection } from '../mapping/index.ts';
import { call } from '../milvus-call.ts';
import { orderOf, tombstoneCollection } from '../tombstones.ts';

export { byKey, compareCollection, differences, expectedFromPostgres, type Embedding, type Rows, type StoredEmbedding } from '../drift.ts';

/** The rows of `keys` (or every row) in the generation's collection, by key. */
export async function readRows(client: MilvusClient, generation: number, collection: EmbeddingCollection, options: ReadOptions = {}): Promise<Rows<StoredEmbedding>> {
  const rows: Rows<StoredEmbedding> = new Map();
  for await (const page of readPages(client, generation, collection, options)) for (const [key, row] of page) rows.set(key, row);
  return rows;
}

/** Everything the generation holds but its checkpoints, sorted: rows of both collections and the tombstones. */
export async function readGeneration(client: MilvusClient, generation: number) {
  const snapshot: Record<string, unknown> = {};
  for (const collection of embeddingCollections) snapshot[collection] = [...(await readRows(client, generation, collection))].sort(([a], [b]) => byKey(a, b));
  const name = tombstoneCollection(generation);
  const tombstones = await call(client, `read ${name}`, () => client.query({ collection_name: name, filter: 'version >= 0', output_fields: ['id', 'version', 'commit_order'] }));
  snapshot['tombstones'] = tombstones.data.map((t) => [String(t['id']), orderOf(t)] as const).sort(([a], [b]) => a.localeCompare(b));
  return snapshot;
}

/** The keys among `keys` that the generation's collection holds more than once (Milvus does not refuse a repeated primary key). */
export async function doubledKeys(client: MilvusClient, generation: number, collection: EmbeddingCollection, keys: number[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const [name, key] = [collectionName(collection, generation), primaryKeys[collection]];
  const { data } = await call(client, `read ${name}`, () => client.query({ collection_name: name, filter: `${key} in [${keys.join(', ')}]`, output_fields: [key] }));
  const seen = new Map<string, number>();
  for (const row of data) seen.set(String(row[key]), (seen.get(String(row[key])) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([found]) => found);
}

/** the most rows one query may return (Milvus's query window) */
const queryWindow = 16_384;

/**
 * What readers of the generation see: readers query the stable names, aliases that resolve to
 * the generation's collections, so this queries those collections as readers do, for the
 * seed's fields only (no order fields; the tombstones are no reader's). Small generations only.
 */
export async function readerView(client: MilvusClient, generation: number): Promise<Record<EmbeddingCollection, unknown[]>> {
  const view = {} as Record<EmbeddingCollection, unknown[]>;
  for (const collection of embeddingCollections) {
    const name = collectionName(collection, generation);
    const key = primaryKeys[collection];
    const output_fields = [key, 'embedding', 'model_version', 'updated_at'];
    const { data } = await call(client, `read ${name}`, () => client.query({ collection_name: name, filter: '', limit: queryWindow, output_fields }));
    if (data.length === queryWindow) throw new Error(`${name} holds more rows than one query returns`);
    view[collection] = data.map((row) => Object.fromEntries(output_fields.map((field) => [field, row[field]]))).sort((a, b) => byKey(String(a[key]), String(b[key])));
  }
  return view;
}
