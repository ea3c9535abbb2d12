// The ClickHouse sink for crash-child.ts: the projector's own, over a client that kills its
// process on the insert into the checkpoint table, which the sink makes after the batch's rows,
// in the first sink call that has rows to write.
import type { CrashFixture } from '../../runtime/testing/crash-child.ts';
import { callHasEffects, markEffects } from '../../runtime/testing/with-effects.ts';
import { checkpointTable } from '../checkpoint.ts';
import { clickhouseClient, clickhouseProjector, createClickhouseSink, ensureGeneration, sqlIdentifier, type ClickhouseOp } from '../index.ts';

const fixture: CrashFixture<ClickhouseOp> = {
  definition: clickhouseProjector,
  async crashingSink(generation, env, crash) {
    const client = clickhouseClient(env);
    await ensureGeneration(client, generation, { shadow: true });
    const insert = client.insert.bind(client);
    client.insert = (params) => (params.table === sqlIdentifier(checkpointTable) && callHasEffects() ? crash() : insert(params));
    return markEffects(createClickhouseSink({ client, generation, projector: clickhouseProjector.name }));
  },
};

export default fixture;
