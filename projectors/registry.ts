// Every projector Nova runs: adding a store is one folder and one line here.
import { clickhouseProjector } from './clickhouse/index.ts';
import { elasticsearchProjector } from './elasticsearch/index.ts';
import { milvusProjector } from './milvus/index.ts';
import { neo4jProjector } from './neo4j/index.ts';
import { redisProjector } from './redis/index.ts';
import type { ProjectorDefinition } from './runtime/sink.ts';

export const projectors: Record<string, ProjectorDefinition<never>> = {
  redis: redisProjector as ProjectorDefinition<never>,
  elasticsearch: elasticsearchProjector as ProjectorDefinition<never>,
  clickhouse: clickhouseProjector as ProjectorDefinition<never>,
  milvus: milvusProjector as ProjectorDefinition<never>,
  neo4j: neo4jProjector as ProjectorDefinition<never>,
};
