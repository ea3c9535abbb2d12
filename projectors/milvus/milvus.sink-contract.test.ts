// The runtime's shared sink contract against the real Milvus, in a generation of its own.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { EMBEDDING_DIM, connectMilvus, createMilvusSink, dropGeneration, ensureGeneration } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { readGeneration } from './test/oracle.ts';

const generation = randomInt(100_000, 1_000_000);
const client = await connectMilvus(env('MILVUS_ADDRESS'));

after(async () => {
  await dropGeneration(client, generation);
  await client.closeConnection();
});

const embedding = (lsn: number, user_id: number, axis: number, model_version: string): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.user_embeddings',
  key: { user_id },
  before: null,
  after: { user_id, embedding: Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === axis ? 1 : 0.125)), model_version, updated_at: new Date(lsn) },
  lsn,
  txId: lsn,
  commitTs: new Date(0),
  position: { topic: 'nova.recommendation.user_embeddings', partition: 0, offset: String(lsn) },
});

sinkContract({
  store: 'milvus',
  mapping: mapChange,
  sink: async () => {
    const own = await connectMilvus(env('MILVUS_ADDRESS'));
    await ensureGeneration(own, generation);
    return createMilvusSink({ client: own, generation, projector: `contract-${generation}` });
  },
  snapshot: () => readGeneration(client, generation),
  reset: async () => {
    await dropGeneration(client, generation);
    await ensureGeneration(client, generation);
  },
  fixtures: { older: embedding(100, 1, 3, 'older'), newer: embedding(200, 1, 7, 'newer'), other: embedding(150, 2, 9, 'other') },
});
