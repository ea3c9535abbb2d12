// What only the tests need on top of the reconcile comparison (../drift.ts): a collection's
// rows held whole, and everything a generation holds, for two reads to be compared.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { embeddingCollections } from '../collections.ts';
import { byKey, readPages, type ReadOptions, type Rows, type StoredEmbedding } from '../drift.ts';
import type { EmbeddingCollection } from '../mapping/index.ts';
import { call } from '../milvus-call.ts';
import { tombstoneCollection } from '../tombstones.ts';

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
  const tombstones = await call(client, `read ${name}`, () => client.query({ collection_name: name, filter: 'lsn >= 0', output_fields: ['id', 'lsn'] }));
  snapshot['tombstones'] = tombstones.data.map((t) => [String(t['id']), Number(t['lsn'])]).sort(([a], [b]) => String(a).localeCompare(String(b)));
  return snapshot;
}
