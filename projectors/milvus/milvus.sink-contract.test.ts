// The runtime's shared sink contract against the real Milvus, in a generation of its own. The
// rows are user embeddings whose variants differ in vector and model, read back as readers see
// the generation (test/oracle.ts readerView). Milvus applies truncates exactly: each row keeps
// its commit order, and a truncate deletes by it (plan.ts).
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { EMBEDDING_DIM, connectMilvus, createMilvusSink, dropGeneration, ensureGeneration } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { readerView } from './test/oracle.ts';

const generation = randomInt(100_000, 1_000_000);
const client = await connectMilvus(env('MILVUS_ADDRESS'));

after(async () => {
  await dropGeneration(client, generation);
  await client.closeConnection();
});

/** Each row and variant points along its own axis, so a search, and the view, tells them apart. */
const row = (user_id: number, variant: 'a' | 'b'): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.user_embeddings',
  key: { user_id },
  before: null,
  after: {
    user_id,
    embedding: Array.from({ length: EMBEDDING_DIM }, (_, i) => (i === 2 * user_id + (variant === 'a' ? 0 : 1) ? 1 : 0.125)),
    model_version: `model-${variant}`,
    updated_at: new Date(1_700_000_000_000),
  },
  version: 1n,
  commitOrder: 1n,
  streamSince: 0,
  txId: 1,
  commitTs: new Date(0),
  position: { topic: 'nova.recommendation.user_embeddings', partition: 0, offset: String(user_id) },
});

sinkContract({
  store: 'milvus',
  mapping: mapChange,
  sink: async () => {
    const own = await connectMilvus(env('MILVUS_ADDRESS'));
    await ensureGeneration(own, generation, { shadow: true });
    return createMilvusSink({ client: own, generation, projector: `contract-${generation}`, writeLeaseMs: 5_000 });
  },
  view: () => readerView(client, generation),
  reset: async () => {
    await dropGeneration(client, generation);
    await ensureGeneration(client, generation, { shadow: true });
  },
  row,
  truncates: 'exact',
});
