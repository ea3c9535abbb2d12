// What the API's routes use, opened once per process (server.ts) and handed to each domain.
import type pg from 'pg';
import type { RedisClient } from '../projectors/redis/client.ts';
import type { Logger } from 'pino';
import type { JwtConfig } from '../config/nova-config.ts';
import type { ClickhouseViews } from '../projectors/clickhouse/views.ts';
import type { ElasticsearchViews } from '../projectors/elasticsearch/views.ts';
import type { Neo4jViews } from '../projectors/neo4j/views.ts';
import type { RedisViews } from '../projectors/redis/views.ts';
import type { Watermarks } from './consistency/watermarks.ts';
import type { StreamUrls } from './domains/live/writes.ts';
import type { ApiMetrics } from './http/metrics.ts';

export type ApiDeps = {
  pool: pg.Pool;
  /** the Redis views (the live generation) */
  redis: RedisViews;
  /** Redis keys that are no view (no generation): rate-limit counters, the suggestion cache */
  ephemeral: RedisClient;
  /** the social graph (the live generation, as the reader namespace names it) */
  neo4j: Neo4jViews;
  /** message search (the live generation's aliases, as the reader namespace names them) */
  elasticsearch: ElasticsearchViews;
  /** the activity summary (the reader namespace's view) */
  clickhouse: ClickhouseViews;
  /** where streamers publish and viewers play */
  streamUrls: StreamUrls;
  watermarks: Watermarks;
  jwt: JwtConfig;
  log: Logger;
  metrics: ApiMetrics;
  limits: { writesPerMinute: number; maxWaitMs: number; defaultWaitMs: number };
};
