// The Milvus sink for crash-child.ts: the projector's own, over a client that kills its process
// on the upsert into the checkpoint collection, which the sink makes after the batch's writes,
// in the first sink call that has writes.
import { novaConfig } from '../../../config/nova-config.ts';
import type { CrashFixture } from '../../runtime/testing/crash-child.ts';
import { callHasEffects, markEffects } from '../../runtime/testing/with-effects.ts';
import { checkpointCollection } from '../checkpoint.ts';
import { connectMilvus, createMilvusSink, ensureGeneration, milvusProjector, type MilvusOp } from '../index.ts';

const fixture: CrashFixture<MilvusOp> = {
  definition: milvusProjector,
  async crashingSink(generation, env, crash) {
    const client = await connectMilvus(env['MILVUS_ADDRESS'] as string);
    await ensureGeneration(client, generation, { shadow: true });
    const upsert = client.upsert.bind(client);
    client.upsert = (data) => (data.collection_name === checkpointCollection(generation) && callHasEffects() ? crash() : upsert(data));
    return markEffects(createMilvusSink({ client, generation, projector: milvusProjector.name, writeLeaseMs: novaConfig(env).milvusWriteLeaseMs() }));
  },
};

export default fixture;
