// The ClickHouse projector: user_interactions as the seed's user_behavior_events, for analytics.
import type { ProjectorDefinition } from '../runtime/sink.ts';
import { clickhouseClient, clickhouseError } from './client.ts';
import { compareClickhouseWithPostgres } from './drift.ts';
import { clickhouseGenerations, ensureGeneration } from './generations.ts';
import { mapChange, type ClickhouseOp } from './mapping/index.ts';
import { createClickhouseSink } from './sink.ts';

export type { ClickhouseOp } from './mapping/index.ts';
export { clearCheckpoints, loadCheckpoints, type CheckpointScope } from './checkpoint.ts';
export { clickhouseClient } from './client.ts';
export { compareClickhouseWithPostgres } from './drift.ts';
export { sqlIdentifier, sqlString, sqlUnsigned } from './escape.ts';
export { clickhouseGenerations, dropGeneration, ensureGeneration, liveGeneration, swapView } from './generations.ts';
export { createClickhouseSink, type ClickhouseSinkOptions } from './sink.ts';
export { currentStateQuery, generationTable, projectedTables, truncationsTable, userBehaviorEvents, type ProjectedTable } from './tables.ts';

const name = 'clickhouse';

export const clickhouseProjector: ProjectorDefinition<ClickhouseOp> = {
  name,
  topics: ['nova.user.user_interactions'],
  mapping: mapChange,
  async createSink({ generation, env, shadow }) {
    // it names tables and is embedded in queries: refuse a --generation that is not a plain number
    if (!Number.isSafeInteger(generation) || generation < 0) throw new Error(`clickhouse: generation ${generation} is not a non-negative integer`);
    const client = clickhouseClient(env);
    try {
      await ensureGeneration(client, generation, { shadow, env });
    } catch (error) {
      await client.close();
      throw clickhouseError(error);
    }
    return createClickhouseSink({ client, generation, projector: name });
  },
  generations: clickhouseGenerations(name),
  compareWithPostgres: compareClickhouseWithPostgres,
};
