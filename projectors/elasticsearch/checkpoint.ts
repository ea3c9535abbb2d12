// Where the Elasticsearch projector's position lives: one document per (projector, generation,
// topic, partition) in `nova_checkpoints`. Elasticsearch has no transaction spanning the bulk
// and this write, so the sink writes them after the effects; replaying from an older checkpoint
// is harmless because every effect is guarded by its external version (the change's version).
// A checkpoint only moves forward (its document's external version is its offset, so a lower
// one is refused with a conflict): a partition's previous holder, finishing a batch after a
// rebalance moved the partition, cannot set it back. (Scripts would need painless, which the
// stack's Elasticsearch does not load.)
import type { Client } from '@elastic/elasticsearch';
import { NovaError, codes } from '../runtime/errors.ts';
import { bulkFailures } from './bulk-outcome.ts';
import type { Checkpoint } from '../runtime/sink.ts';

export const checkpointIndex = 'nova_checkpoints';

export const checkpointMappings = {
  dynamic: 'strict',
  properties: {
    projector: { type: 'keyword' },
    generation: { type: 'long' },
    topic: { type: 'keyword' },
    partition: { type: 'integer' },
    // a Kafka offset is a 64-bit integer; kept as the runtime's string to avoid precision loss
    nextOffset: { type: 'keyword' },
    // 64 bits with the source epoch on top: JSON would bring a long back as a rounded double,
    // so it is kept as its decimal text (an index an older Nova made gets it by put-mapping)
    commitOrder: { type: 'keyword' },
    updated_at: { type: 'date' },
  },
} as const;

export type CheckpointScope = { projector: string; generation: number };

/** `commitOrder` absent: written by an older Nova (its `lsn` meant something else), so unknown. */
type CheckpointDoc = Omit<Checkpoint, 'commitOrder'> & CheckpointScope & { commitOrder?: string | null; updated_at: string };

export const checkpointId = ({ projector, generation }: CheckpointScope, topic: string, partition: number) =>
  `${projector}:g${generation}:${topic}:${partition}`;

// above any internal version a document written before this scheme can have (one per write)
const versionBase = 2 ** 40;
const versionOf = (nextOffset: string) => versionBase + Number(nextOffset);

/**
 * One bulk for all of a batch's partitions. refresh false: waiting for a refresh (`wait_for`)
 * would add up to a refresh interval to every batch, and nothing searches these documents
 * while the projector runs. loadCheckpoints, the only reader, refreshes the index itself.
 */
export async function writeCheckpoints(client: Client, scope: CheckpointScope, checkpoints: Checkpoint[]): Promise<void> {
  if (checkpoints.length === 0) return;
  const updated_at = new Date().toISOString();
  const response = await client.bulk({
    refresh: false,
    operations: checkpoints.flatMap(({ topic, partition, nextOffset, commitOrder }): object[] => {
      const document: CheckpointDoc = { ...scope, topic, partition, nextOffset, commitOrder: commitOrder === null ? null : commitOrder.toString(), updated_at };
      return [{ index: { _index: checkpointIndex, _id: checkpointId(scope, topic, partition), version: versionOf(nextOffset), version_type: 'external' } }, document];
    }),
  });
  // a conflict is a checkpoint at or past this one already stored: nothing to write
  const { reasons, transient } = bulkFailures(response.items.filter((item) => Object.values(item)[0]?.status !== 409));
  if (reasons.length > 0) {
    const detail = `elasticsearch: ${reasons.length} of ${checkpoints.length} checkpoints not written, first: ${reasons[0]}`;
    throw new NovaError(transient ? 'transient' : 'fatal', codes.storeUnavailable, detail);
  }
}

export async function loadCheckpoints(client: Client, scope: CheckpointScope): Promise<Checkpoint[]> {
  await client.indices.refresh({ index: checkpointIndex, ignore_unavailable: true });
  const found = await client.search<CheckpointDoc>({
    index: checkpointIndex,
    ignore_unavailable: true,
    size: 10_000, // one per partition: far fewer
    query: { bool: { filter: [{ term: { projector: scope.projector } }, { term: { generation: scope.generation } }] } },
  });
  return found.hits.hits.flatMap((hit) => {
    const doc = hit._source;
    return doc ? [{ topic: doc.topic, partition: doc.partition, nextOffset: doc.nextOffset, commitOrder: typeof doc.commitOrder === 'string' ? BigInt(doc.commitOrder) : null }] : [];
  });
}
