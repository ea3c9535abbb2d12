// What a generation must hold, from PostgreSQL (the source of truth), and what it does hold,
// read back from Milvus, both per key, to compare: vectors within a float tolerance (Milvus
// stores float32), everything else exactly.
import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type pg from 'pg';
import { call } from '../milvus-call.ts';
import { collectionName, embeddingCollections, primaryKeys } from '../collections.ts';
import type { EmbeddingCollection } from '../mapping/index.ts';
import { tombstoneCollection } from '../tombstones.ts';

export type Embedding = { embedding: number[]; model_version: string; updated_at: number };
export type StoredEmbedding = Embedding & { lsn: number };

/** The rows of `keys` (or every row) in the generation's collection. */
export async function readRows(client: MilvusClient, generation: number, collection: EmbeddingCollection, keys?: number[]): Promise<Map<number, StoredEmbedding>> {
  const rows = new Map<number, StoredEmbedding>();
  if (keys?.length === 0) return rows;
  const name = collectionName(collection, generation);
  const key = primaryKeys[collection];
  const filter = keys ? `${key} in [${keys.join(', ')}]` : 'lsn >= 0';
  const found = await call(client, `read ${name}`, () => client.query({ collection_name: name, filter, output_fields: [key, 'embedding', 'model_version', 'updated_at', 'lsn'] }));
  for (const r of found.data) {
    rows.set(Number(r[key]), { embedding: r['embedding'] as number[], model_version: String(r['model_version']), updated_at: Number(r['updated_at']), lsn: Number(r['lsn']) });
  }
  return rows;
}

/** Everything the generation holds but its checkpoints, sorted: rows of both collections and the tombstones. */
export async function readGeneration(client: MilvusClient, generation: number) {
  const snapshot: Record<string, unknown> = {};
  for (const collection of embeddingCollections) snapshot[collection] = [...(await readRows(client, generation, collection))].sort(([a], [b]) => a - b);
  const name = tombstoneCollection(generation);
  const tombstones = await call(client, `read ${name}`, () => client.query({ collection_name: name, filter: 'lsn >= 0', output_fields: ['id', 'lsn'] }));
  snapshot['tombstones'] = tombstones.data.map((t) => [String(t['id']), Number(t['lsn'])]).sort(([a], [b]) => String(a).localeCompare(String(b)));
  return snapshot;
}

/** What PostgreSQL holds for `keys` now (each collection is named after its source table). */
export async function expectedFromPostgres(db: pg.Client, collection: EmbeddingCollection, keys: number[]): Promise<Map<number, Embedding>> {
  const key = primaryKeys[collection];
  const { rows } = await db.query(
    `SELECT ${key} AS key, embedding, model_version, floor(extract(epoch from updated_at) * 1000)::bigint AS updated_at FROM ${collection} WHERE ${key} = ANY($1::bigint[])`,
    [keys],
  );
  return new Map(rows.map((r) => [Number(r.key), { embedding: (r.embedding as string[]).map(Number), model_version: r.model_version, updated_at: Number(r.updated_at) }]));
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
const sameVector = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => close(x, b[i] as number));

/** Every way the generation differs from PostgreSQL over `keys`, one line each. */
export function differences(collection: EmbeddingCollection, keys: number[], expected: Map<number, Embedding>, actual: Map<number, StoredEmbedding>): string[] {
  const lines: string[] = [];
  for (const key of keys) {
    const [want, got] = [expected.get(key), actual.get(key)];
    if (want && !got) lines.push(`${collection} ${key}: missing (PostgreSQL has model ${want.model_version})`);
    else if (!want && got) lines.push(`${collection} ${key}: deleted in PostgreSQL, still in Milvus (lsn ${got.lsn})`);
    else if (want && got) {
      const fields = [!sameVector(want.embedding, got.embedding) && 'embedding', want.model_version !== got.model_version && 'model_version', want.updated_at !== got.updated_at && 'updated_at'].filter(Boolean);
      if (fields.length > 0) lines.push(`${collection} ${key}: differs in ${fields.join(', ')} (model ${want.model_version} vs ${got.model_version}, lsn ${got.lsn})`);
    }
  }
  return lines;
}
