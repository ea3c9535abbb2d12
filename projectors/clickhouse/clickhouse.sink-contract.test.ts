// The runtime's shared sink contract against the real ClickHouse, in a generation of its own.
// The store's state is what readers resolve: the version kept per id (FINAL, with its lsn and
// is_deleted) and the truncate watermarks.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import { waitFor } from '../../scripts/stack.d/test/stack.ts';
import type { Change } from '../runtime/decode/index.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { clearCheckpoints, loadCheckpoints } from './checkpoint.ts';
import { clickhouseClient } from './client.ts';
import { sqlIdentifier } from './escape.ts';
import { dropGeneration, ensureGeneration } from './generations.ts';
import { createClickhouseSink } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { generationTable, truncationsTable, userBehaviorEvents } from './tables.ts';

const generation = randomInt(100_000_000, 1_000_000_000);
const scope = { projector: `contract-${generation}`, generation };
const client = clickhouseClient(process.env);

after(async () => {
  await dropGeneration(client, generation);
  await clearCheckpoints(client, scope);
  await client.close();
});

const interaction = (lsn: number, id: number, interaction_type: string): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.user_interactions',
  key: { id },
  before: null,
  after: { id, user_id: 7, target_type: 'post', target_id: 70 + id, interaction_type, interaction_value: 1.25, metadata: null, created_at: new Date(lsn * 1000) },
  lsn,
  txId: lsn,
  commitTs: new Date(0),
  position: { topic: 'nova.user.user_interactions', partition: 0, offset: String(lsn) },
});

async function rows(query: string) {
  return (await client.query({ query, format: 'JSONEachRow' })).json();
}

sinkContract({
  store: 'clickhouse',
  mapping: mapChange,
  sink: async () => {
    const own = clickhouseClient(process.env);
    await ensureGeneration(own, generation);
    return createClickhouseSink({ client: own, generation, projector: scope.projector });
  },
  snapshot: async () => ({
    versions: await rows(`SELECT * FROM ${sqlIdentifier(generationTable(userBehaviorEvents, generation))} FINAL ORDER BY id`),
    truncations: await rows(`SELECT * FROM ${sqlIdentifier(truncationsTable(userBehaviorEvents, generation))} FINAL ORDER BY lsn`),
  }),
  reset: async () => {
    await dropGeneration(client, generation);
    await ensureGeneration(client, generation);
    await clearCheckpoints(client, scope);
    await waitFor('the cleared checkpoints to be gone', async () => ((await loadCheckpoints(client, scope)).length === 0 ? true : undefined), 30_000);
  },
  fixtures: { older: interaction(100, 1, 'view'), newer: interaction(200, 1, 'like'), other: interaction(150, 2, 'share') },
});
