// Milvus forgets a deleted row entirely, so a replayed older insert could bring it back. Each
// delete leaves a tombstone here, `<collection>:<key>` with the delete's version and commit
// order, and a truncate leaves `<collection>:*`: the newest truncate, which removed every row
// before it in commit order. One collection per generation serves both embedding collections.
// The embedding collections themselves hold only live rows, so a search can never return a
// deleted vector.
import { DataType, type MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { Ordered } from '../runtime/decode/index.ts';
import { collectionName, orderFields, placeholderField, placeholderIndex, placeholderVector, type CollectionSpec } from './collections.ts';
import type { EmbeddingCollection } from './mapping/index.ts';
import { call, int64, int64Of, quote } from './milvus-call.ts';

export const tombstoneCollection = (generation: number) => collectionName('embedding_tombstones', generation);

export const tombstoneSpec = (generation: number): CollectionSpec => ({
  name: tombstoneCollection(generation),
  fields: [{ name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 64 }, ...orderFields, placeholderField],
  index: placeholderIndex,
});

const everyKey = '*';
const tombstoneId = (collection: EmbeddingCollection, key: number | typeof everyKey) => `${collection}:${key}`;

/** A stored version and commit order, as the SDK returns them. */
export const orderOf = (row: Record<string, unknown>): Ordered => ({ version: int64Of(row['version']), commitOrder: int64Of(row['commit_order']) });

export type Tombstones = { byKey: Map<number, Ordered>; truncate: Ordered | null };

/** The tombstones of `keys` in one query, and the collection's truncate tombstone. */
export async function readTombstones(client: MilvusClient, generation: number, collection: EmbeddingCollection, keys: number[]): Promise<Tombstones> {
  const name = tombstoneCollection(generation);
  const ids = [...keys.map((key) => tombstoneId(collection, key)), tombstoneId(collection, everyKey)];
  const found = await call(
    client,
    `read tombstones of ${collection}`,
    () => client.query({ collection_name: name, filter: `id in [${ids.map(quote).join(', ')}]`, output_fields: ['id', 'version', 'commit_order'] }),
    { collection: name },
  );
  const tombstones: Tombstones = { byKey: new Map(), truncate: null };
  for (const row of found.data) {
    const key = String(row['id']).slice(collection.length + 1);
    if (key === everyKey) tombstones.truncate = orderOf(row);
    else tombstones.byKey.set(Number(key), orderOf(row));
  }
  return tombstones;
}

async function upsertTombstones(client: MilvusClient, generation: number, what: string, tombstones: Array<Ordered & { id: string }>): Promise<void> {
  const name = tombstoneCollection(generation);
  const data = tombstones.map(({ id, version, commitOrder }) => ({ id, version: int64(version), commit_order: int64(commitOrder), placeholder: placeholderVector }));
  await call(client, what, () => client.upsert({ collection_name: name, data }), { collection: name });
}

/** Remembers deletes at their order. */
export const rememberDeletes = (client: MilvusClient, generation: number, collection: EmbeddingCollection, deletes: Array<Ordered & { key: number }>) =>
  upsertTombstones(client, generation, `remember deletes in ${collection}`, deletes.map(({ key, ...order }) => ({ id: tombstoneId(collection, key), ...order })));

/** Remembers a truncate: every row before it in commit order is gone. */
export const rememberTruncate = (client: MilvusClient, generation: number, collection: EmbeddingCollection, truncate: Ordered) =>
  upsertTombstones(client, generation, `remember the truncate of ${collection}`, [{ id: tombstoneId(collection, everyKey), ...truncate }]);

/**
 * Forgets the deletes' tombstones of `collection` below `horizon` (runtime/tombstones/horizon.ts):
 * no retained record of the collection's topic is older, so nothing is left for them to refuse.
 * The truncate's (`<collection>:*`) stays: it is one row, and it also stands for the rows it removed.
 */
export async function collectTombstones(client: MilvusClient, generation: number, collection: EmbeddingCollection, horizon: bigint): Promise<number> {
  const name = tombstoneCollection(generation);
  const filter = `id like ${quote(`${collection}:%`)} and id != ${quote(tombstoneId(collection, everyKey))} and commit_order < ${int64(horizon)}`;
  if ((await call(client, `look for ${name}`, () => client.hasCollection({ collection_name: name }))).value !== true) throw new Error(`milvus: generation ${generation} has no ${name}`);
  const { delete_cnt } = await call(client, `collect tombstones of ${collection}`, () => client.deleteEntities({ collection_name: name, filter }), { collection: name });
  return Number(delete_cnt);
}
