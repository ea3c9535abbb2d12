// How readers (the API) reach the analytics view: a client, the view name their reader
// namespace queries (`user_behavior_events` by default), and the projector's checkpoints in the
// generation that view reads, looked up again at most once a second. Every query a reader
// builds goes through escape.ts (sqlIdentifier, sqlUnsigned, sqlString).
import type { ClickHouseClient } from '@clickhouse/client';
import { readerName } from '../runtime/reader-namespace.ts';
import { shared } from '../runtime/shared-read.ts';
import type { Checkpoint } from '../runtime/sink.ts';
import { loadCheckpoints } from './checkpoint.ts';
import { clickhouseClient } from './client.ts';
import { liveGeneration } from './generations.ts';
import { userBehaviorEvents, type ProjectedTable } from './tables.ts';

export type ClickhouseViews = {
  client: ClickHouseClient;
  /** the view readers query for `table` */
  view(table: ProjectedTable): string;
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

export function openClickhouseViews(env: NodeJS.ProcessEnv, options: { projector?: string } = {}): ClickhouseViews {
  const { projector = 'clickhouse' } = options;
  const client = clickhouseClient(env);
  const view = (table: ProjectedTable) => readerName(table, env);
  const generation = shared(() => liveGeneration(client, userBehaviorEvents, view(userBehaviorEvents)), 1_000);
  return {
    client,
    view,
    async checkpoints() {
      const live = await generation();
      return live === null ? [] : loadCheckpoints(client, { projector, generation: live });
    },
    close: () => client.close(),
  };
}
