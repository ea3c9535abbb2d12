// Every projector Nova runs: adding a store is one folder and one line here.
import { elasticsearchProjector } from './elasticsearch/index.ts';
import { redisProjector } from './redis/index.ts';
import type { ProjectorDefinition } from './runtime/sink.ts';

export const projectors: Record<string, ProjectorDefinition<never>> = {
  redis: redisProjector as ProjectorDefinition<never>,
  elasticsearch: elasticsearchProjector as ProjectorDefinition<never>,
};
