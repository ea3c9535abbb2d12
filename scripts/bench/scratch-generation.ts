// A generation of a projector's views that belongs to this benchmark alone, never a live one:
// a claimed Redis generation (projectors/redis/test/own-generation.ts), a random Elasticsearch generation >= 1000, or a random
// generation of any other store with blue/green generations. reset()
// empties it for the next pass; cleanup() removes everything the benchmark wrote there.
import { randomInt } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { aliasNames, indexName } from '../../projectors/elasticsearch/index.ts';
import { claimGeneration as claimRedisGeneration } from '../../projectors/redis/test/own-generation.ts';
import type { CheckpointStore, Generations, ProjectorDefinition, Sink } from '../../projectors/runtime/sink.ts';

export type BenchSink = Sink<never> & CheckpointStore;

export type ScratchGeneration = {
  generation: number;
  /** where the views go, for the output */
  where: string;
  /** the definition's own sink, on this generation */
  createSink(): Promise<BenchSink>;
  /** empties the generation (a fresh one for the next pass) */
  reset(): Promise<void>;
  cleanup(): Promise<void>;
};

const need = (env: NodeJS.ProcessEnv, name: string) => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set (scripts/nova reads .nova/stack.env once the stack is up)`);
  return value;
};

/**
 * The definition's own sink on a scratch generation. Elasticsearch's ensureIndices points a
 * missing alias at the new generation; readers must never see a benchmark's indices, so every
 * alias it may have added is taken straight back off them.
 */
export async function sinkOnGeneration(definition: ProjectorDefinition<never>, generation: number, env: NodeJS.ProcessEnv = process.env): Promise<BenchSink> {
  const sink = (await definition.createSink({ generation, env, shadow: true })) as BenchSink;
  if (definition.name !== 'elasticsearch') return sink;
  const es = new Client({ node: need(env, 'ELASTICSEARCH_URL') });
  try {
    const actions = [];
    for (const alias of aliasNames) {
      if (!(await es.indices.existsAlias({ name: alias }))) continue;
      const index = indexName(alias, generation);
      if (Object.keys(await es.indices.getAlias({ name: alias })).includes(index)) actions.push({ remove: { index, alias } });
    }
    if (actions.length > 0) await es.indices.updateAliases({ actions });
  } finally {
    await es.close();
  }
  return sink;
}

async function redisGeneration(definition: ProjectorDefinition<never>, env: NodeJS.ProcessEnv): Promise<ScratchGeneration> {
  const own = await claimRedisGeneration(env);
  return {
    generation: own.generation,
    where: `Redis generation ${own.generation} (keys ${own.key('*')})`,
    createSink: () => sinkOnGeneration(definition, own.generation, env),
    reset: own.reset,
    cleanup: own.release,
  };
}

async function elasticsearchGeneration(definition: ProjectorDefinition<never>, env: NodeJS.ProcessEnv): Promise<ScratchGeneration> {
  const es = new Client({ node: need(env, 'ELASTICSEARCH_URL') });
  let generation = 0;
  for (let attempt = 0; attempt < 10 && generation === 0; attempt++) {
    const candidate = randomInt(1000, 1_000_000_000);
    if (!(await es.indices.exists({ index: aliasNames.map((a) => indexName(a, candidate)) }))) generation = candidate;
  }
  if (generation === 0) throw new Error('could not find an unused Elasticsearch generation');
  const indices = aliasNames.map((a) => indexName(a, generation));

  // its indices and checkpoint documents; never live (sinkOnGeneration takes the aliases back)
  const empty = () => (definition.generations as Generations).drop(generation, env);

  return {
    generation,
    where: `Elasticsearch generation ${generation} (${indices.join(', ')})`,
    createSink: () => sinkOnGeneration(definition, generation, env),
    reset: empty,
    async cleanup() {
      await empty();
      await es.close();
    },
  };
}

/**
 * Any store with blue/green generations: a random unused generation, emptied by the store's own
 * drop(), opened as a shadow: readers never see the benchmark's generation.
 */
async function generationOf(definition: ProjectorDefinition<never>, env: NodeJS.ProcessEnv): Promise<ScratchGeneration> {
  const generations = definition.generations;
  if (!generations) throw new Error(`the benchmark needs blue/green generations to run '${definition.name}' beside its live view`);
  for (let attempt = 0; attempt < 10; attempt++) {
    const generation = randomInt(1_000_000, 1_000_000_000);
    const sink = await definition.createSink({ generation, env, shadow: true });
    const unused = (await sink.load()).length === 0;
    await sink.close();
    if (!unused) continue;
    const empty = () => generations.drop(generation, env);
    return { generation, where: `${definition.name} generation ${generation}`, createSink: () => sinkOnGeneration(definition, generation, env), reset: empty, cleanup: empty };
  }
  throw new Error(`could not find an unused ${definition.name} generation`);
}

export function claimGeneration(definition: ProjectorDefinition<never>, env: NodeJS.ProcessEnv = process.env): Promise<ScratchGeneration> {
  if (definition.name === 'redis') return redisGeneration(definition, env);
  if (definition.name === 'elasticsearch') return elasticsearchGeneration(definition, env);
  return generationOf(definition, env);
}
