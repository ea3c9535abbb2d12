// The runtime's shared sink contract against the real ClickHouse, in a generation of its own.
// What it compares is what readers get: the reader columns through currentStateQuery (exactly
// what the stable view user_behavior_events selects) for that generation, never the raw tables.
import { randomInt } from 'node:crypto';
import { after } from 'node:test';
import type { Change } from '../runtime/decode/index.ts';
import { sinkContract } from '../runtime/testing/sink-contract.ts';
import { clearCheckpoints } from './checkpoint.ts';
import { clickhouseClient } from './client.ts';
import { dropGeneration, ensureGeneration } from './generations.ts';
import { createClickhouseSink } from './index.ts';
import { mapChange } from './mapping/index.ts';
import { currentStateQuery, userBehaviorEvents } from './tables.ts';

const generation = randomInt(100_000_000, 1_000_000_000);
const scope = { projector: `contract-${generation}`, generation };
const client = clickhouseClient(process.env);

after(async () => {
  await dropGeneration(client, generation);
  await clearCheckpoints(client, scope);
  await client.close();
});

/** Variants differ in every value a reader sees but the row's identity. */
const variants = {
  a: { user_id: 7, target_type: 'post', target_id: 70, interaction_type: 'view', interaction_value: 1.25, created_at: new Date(1_700_000_000_000) },
  b: { user_id: 8, target_type: 'user', target_id: 80, interaction_type: 'like', interaction_value: null, created_at: new Date(1_700_000_100_000) },
};

const row = (id: number, variant: 'a' | 'b'): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.user_interactions',
  key: { id },
  before: null,
  after: { id, ...variants[variant], metadata: null },
  version: 0n,
  commitOrder: 0n,
  streamSince: 0,
  txId: null,
  commitTs: new Date(0),
  position: { topic: 'nova.user.user_interactions', partition: 0, offset: String(id) },
});

sinkContract({
  store: 'clickhouse',
  mapping: mapChange,
  sink: async () => {
    const own = clickhouseClient(process.env);
    await ensureGeneration(own, generation, { shadow: true });
    return createClickhouseSink({ client: own, generation, projector: scope.projector });
  },
  view: async () => (await client.query({ query: `SELECT * FROM (${currentStateQuery(userBehaviorEvents, generation)}) ORDER BY id`, format: 'JSONEachRow' })).json(),
  reset: async () => {
    await dropGeneration(client, generation);
    await ensureGeneration(client, generation, { shadow: true });
    await clearCheckpoints(client, scope);
  },
  row,
  truncates: 'exact',
});
