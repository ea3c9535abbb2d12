// Where the Milvus projector's position lives: one row per (projector, topic, partition) in its
// generation's `nova_checkpoints_v<N>`. Milvus has no transaction spanning the effects and this
// write, so the sink writes it after them; replaying from an older checkpoint is harmless because
// every effect is guarded by its version and the truncates' commit order (plan.ts).
import { DataType, type MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { Checkpoint } from '../runtime/sink.ts';
import { collectionName, placeholderField, placeholderIndex, placeholderVector, type CollectionSpec } from './collections.ts';
import { call, int64, int64Of, quote } from './milvus-call.ts';

export const checkpointCollection = (generation: number) => collectionName('nova_checkpoints', generation);

export const checkpointSpec = (generation: number): CollectionSpec => ({
  name: checkpointCollection(generation),
  fields: [
    { name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 512 },
    { name: 'projector', data_type: DataType.VarChar, max_length: 64 },
    { name: 'topic', data_type: DataType.VarChar, max_length: 249 }, // Kafka's longest topic name
    { name: 'partition', data_type: DataType.Int64 },
    // a Kafka offset is a 64-bit integer; kept as the runtime's string to avoid precision loss
    { name: 'next_offset', data_type: DataType.VarChar, max_length: 20 },
    // exact past 2^53 (an epoch above 0): written and read as decimal text (milvus-call.ts int64)
    { name: 'commit_order', data_type: DataType.Int64, nullable: true },
    placeholderField,
  ],
  index: placeholderIndex,
});

export type CheckpointScope = { projector: string; generation: number };

const checkpointId = (projector: string, topic: string, partition: number) => `${projector}:${topic}:${partition}`;

/**
 * One upsert for all of a batch's partitions, of those that move forward: a partition's previous
 * holder, finishing a batch after a rebalance moved the partition, does not set it back. Milvus
 * has no conditional write, so this reads first: two writers interleaving between the read and
 * the upsert could still regress one (named in the README).
 */
export async function writeCheckpoints(client: MilvusClient, { projector, generation }: CheckpointScope, checkpoints: Checkpoint[]): Promise<void> {
  if (checkpoints.length === 0) return;
  const name = checkpointCollection(generation);
  const ids = checkpoints.map(({ topic, partition }) => checkpointId(projector, topic, partition));
  const stored = await call(client, 'read checkpoints', () => client.query({ collection_name: name, filter: `id in [${ids.map(quote).join(', ')}]`, output_fields: ['id', 'next_offset'] }), { collection: name });
  const storedAt = new Map(stored.data.map((row) => [String(row['id']), BigInt(String(row['next_offset']))]));
  const forward = checkpoints.filter(({ topic, partition, nextOffset }) => BigInt(nextOffset) > (storedAt.get(checkpointId(projector, topic, partition)) ?? -1n));
  if (forward.length === 0) return;
  const data = forward.map(({ topic, partition, nextOffset, commitOrder }) => ({
    id: checkpointId(projector, topic, partition),
    projector,
    topic,
    partition,
    next_offset: nextOffset,
    commit_order: commitOrder === null ? null : int64(commitOrder),
    placeholder: placeholderVector,
  }));
  await call(client, 'write checkpoints', () => client.upsert({ collection_name: name, data }), { collection: name });
}

/** The newest checkpoint of each partition (the primary key keeps one; the furthest wins should a row ever repeat). */
export async function loadCheckpoints(client: MilvusClient, { projector, generation }: CheckpointScope): Promise<Checkpoint[]> {
  const name = checkpointCollection(generation);
  const found = await call(
    client,
    'load checkpoints',
    () => client.query({ collection_name: name, filter: `projector == ${quote(projector)}`, output_fields: ['topic', 'partition', 'next_offset', 'commit_order'] }),
    { collection: name },
  );
  const newest = new Map<string, Checkpoint>();
  for (const row of found.data) {
    const checkpoint: Checkpoint = {
      topic: String(row['topic']),
      partition: Number(row['partition']),
      nextOffset: String(row['next_offset']),
      commitOrder: row['commit_order'] === null || row['commit_order'] === undefined ? null : int64Of(row['commit_order']),
    };
    const key = `${checkpoint.topic}:${checkpoint.partition}`;
    const seen = newest.get(key);
    if (!seen || BigInt(checkpoint.nextOffset) > BigInt(seen.nextOffset)) newest.set(key, checkpoint);
  }
  return [...newest.values()];
}

/** Forgets every checkpoint of `projector` in the generation: its next start reads from the earliest offsets. */
export async function clearCheckpoints(client: MilvusClient, { projector, generation }: CheckpointScope): Promise<void> {
  const name = checkpointCollection(generation);
  await call(client, 'clear checkpoints', () => client.delete({ collection_name: name, filter: `projector == ${quote(projector)}` }), { collection: name });
}
