// Where the Neo4j projector's position lives: one (:NovaCheckpoint {projector, generation,
// topic, partition, nextOffset, commitOrder}) node per partition, written in the batch's own
// transaction, so a checkpoint exists exactly when the effects before it do. A checkpoint only
// moves forward: a partition's previous holder, finishing a batch after a rebalance moved the
// partition, cannot set it back.
import type { Driver, ManagedTransaction, Transaction } from 'neo4j-driver';
import neo4j from 'neo4j-driver';
import type { Checkpoint } from '../runtime/sink.ts';
import { withSession } from './connection.ts';
import { checkpointLabel } from './graph-names.ts';

export type CheckpointScope = { projector: string; generation: number };

export async function writeCheckpoints(tx: Transaction | ManagedTransaction, { projector, generation }: CheckpointScope, checkpoints: Checkpoint[]): Promise<void> {
  if (checkpoints.length === 0) return;
  await tx.run(
    `UNWIND $checkpoints AS c
     MERGE (n:${checkpointLabel} {projector: $projector, generation: $generation, topic: c.topic, partition: c.partition})
     WITH n, c WHERE n.nextOffset IS NULL OR toInteger(n.nextOffset) < toInteger(c.nextOffset)
     SET n.nextOffset = c.nextOffset, n.commitOrder = c.commitOrder`,
    {
      projector,
      generation: neo4j.int(generation),
      // a Kafka offset is 64-bit: kept as the runtime's string; a commit order as a 64-bit integer
      checkpoints: checkpoints.map((c) => ({
        topic: c.topic,
        partition: neo4j.int(c.partition),
        nextOffset: c.nextOffset,
        commitOrder: c.commitOrder === null ? null : neo4j.int(c.commitOrder),
      })),
    },
  );
}

export function loadCheckpoints(driver: Driver, { projector, generation }: CheckpointScope): Promise<Checkpoint[]> {
  return withSession(driver, async (session) => {
    const result = await session.run(
      `MATCH (n:${checkpointLabel} {projector: $projector, generation: $generation})
       RETURN n.topic AS topic, n.partition AS partition, n.nextOffset AS nextOffset, toString(n.commitOrder) AS commitOrder`,
      { projector, generation: neo4j.int(generation) },
    );
    return result.records.map((r) => {
      const commitOrder: string | null = r.get('commitOrder');
      return { topic: r.get('topic'), partition: r.get('partition'), nextOffset: r.get('nextOffset'), commitOrder: commitOrder === null ? null : BigInt(commitOrder) };
    });
  });
}
