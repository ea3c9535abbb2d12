// Milvus forgets a deleted row entirely, so a replayed older insert could bring it back. Each
// delete leaves a tombstone here, `<collection>:<key>` with the delete's LSN, and a truncate
// leaves `<collection>:*`: a tombstone for every key, up to its LSN. One collection per
// generation serves both embedding collections. The embedding collections themselves hold
// only live rows, so a search can never return a deleted vector.
import { DataType, type MilvusClient } from '@zilliz/milvus2-sdk-node';
import { collectionName, placeholderField, placeholderIndex, placeholderVector, type CollectionSpec } from './collections.ts';
import type { EmbeddingCollection } from './mapping/index.ts';
import { call, quote } from './milvus-call.ts';

export const tombstoneCollection = (generation: number) => collectionName('embedding_tombstones', generation);

export const tombstoneSpec = (generation: number): CollectionSpec => ({
  name: tombstoneCollection(generation),
  fields: [{ name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 64 }, { name: 'lsn', data_type: DataType.Int64 }, placeholderField],
  index: placeholderIndex,
});

const everyKey = '*';
const tombstoneId = (collection: EmbeddingCollection, key: number | typeof everyKey) => `${collection}:${key}`;

export type Tombstones = { byKey: Map<number, number>; truncatedAt: number | null };

/** The tombstones of `keys` in one query, and the collection's truncate tombstone. */
export async function readTombstones(client: MilvusClient, generation: number, collection: EmbeddingCollection, keys: number[]): Promise<Tombstones> {
  const name = tombstoneCollection(generation);
  const ids = [...keys.map((key) => tombstoneId(collection, key)), tombstoneId(collection, everyKey)];
  const found = await call(client, `read tombstones of ${collection}`, () => client.query({ collection_name: name, filter: `id in [${ids.map(quote).join(', ')}]`, output_fields: ['id', 'lsn'] }), { collection: name });
  const tombstones: Tombstones = { byKey: new Map(), truncatedAt: null };
  for (const row of found.data) {
    const key = String(row['id']).slice(collection.length + 1);
    if (key === everyKey) tombstones.truncatedAt = Number(row['lsn']);
    else tombstones.byKey.set(Number(key), Number(row['lsn']));
  }
  return tombstones;
}

async function upsertTombstones(client: MilvusClient, generation: number, what: string, tombstones: Array<{ id: string; lsn: number }>): Promise<void> {
  const name = tombstoneCollection(generation);
  const data = tombstones.map(({ id, lsn }) => ({ id, lsn, placeholder: placeholderVector }));
  await call(client, what, () => client.upsert({ collection_name: name, data }), { collection: name });
}

/** Remembers deletes at their LSNs. */
export const rememberDeletes = (client: MilvusClient, generation: number, collection: EmbeddingCollection, deletes: Array<{ key: number; lsn: number }>) =>
  upsertTombstones(client, generation, `remember deletes in ${collection}`, deletes.map(({ key, lsn }) => ({ id: tombstoneId(collection, key), lsn })));

/** Remembers a truncate: every key is deleted up to `lsn`. */
export const rememberTruncate = (client: MilvusClient, generation: number, collection: EmbeddingCollection, lsn: number) =>
  upsertTombstones(client, generation, `remember the truncate of ${collection}`, [{ id: tombstoneId(collection, everyKey), lsn }]);
