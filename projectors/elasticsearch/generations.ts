// Blue/green for the search views: readers query the aliases (`messages`, `posts`, `users`);
// promoting moves all three to another generation in one _aliases call, so no reader ever sees
// messages from one generation and posts from another. In a reader namespace, its own aliases
// (readerAliasName) show which generation is live.
import type { Client } from '@elastic/elasticsearch';
import { clientRetries, connectElasticsearch } from './client.ts';
import type { Generations } from '../runtime/sink.ts';
import { checkpointIndex } from './checkpoint.ts';
import { elasticsearchError } from './error-kinds.ts';
import { ensureFormat } from './format.ts';
import { aliasNames, aliasTargets, indexName, readerAliasName, swapAliases, type AliasName } from './index-names.ts';

async function withClient<T>(env: NodeJS.ProcessEnv, work: (client: Client) => Promise<T>): Promise<T> {
  const client = connectElasticsearch(env, { maxRetries: clientRetries });
  try {
    return await work(client);
  } catch (error) {
    throw elasticsearchError(error);
  } finally {
    await client.close();
  }
}

const generationOf = (index: string) => Number(index.slice(index.lastIndexOf('_v') + 2));

/** The generation the reader aliases of env's namespace show, or undefined before there is one. */
export async function liveGeneration(client: Client, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const [index] = await aliasTargets(client, readerAliasName(aliasNames[0] as AliasName, env));
  return index === undefined ? undefined : generationOf(index);
}

export function elasticsearchGenerations(projector: string): Generations {
  return {
    live: (env) => withClient(env, (client) => liveGeneration(client, env)),
    promote: (generation, env) =>
      withClient(env, async (client) => {
        const missing = [];
        for (const alias of aliasNames) if (!(await client.indices.exists({ index: indexName(alias, generation) }))) missing.push(indexName(alias, generation));
        if (missing.length > 0) throw new Error(`elasticsearch: generation ${generation} has no ${missing.join(', ')}: rebuild it first`);
        for (const alias of aliasNames) await ensureFormat(client, alias, generation, indexName(alias, generation));
        await swapAliases(client, aliasNames, generation, (alias) => readerAliasName(alias as AliasName, env));
      }),
    drop: (generation, env) =>
      withClient(env, async (client) => {
        // in a namespace, the seed's aliases are checked too: deleting the indices would take them along
        const live = [await liveGeneration(client, env), await liveGeneration(client, {})];
        if (live.includes(generation)) throw new Error(`elasticsearch: generation ${generation} is live; promote another one first`);
        await client.indices.delete({ index: aliasNames.map((alias) => indexName(alias, generation)), ignore_unavailable: true });
        // no delete-by-query on this server (no reindex module): find the checkpoints, delete by id
        await client.indices.refresh({ index: checkpointIndex, ignore_unavailable: true });
        const found = await client.search({
          index: checkpointIndex,
          ignore_unavailable: true,
          size: 10_000,
          _source: false,
          query: { bool: { filter: [{ term: { projector } }, { term: { generation } }] } },
        });
        const ids = found.hits.hits.map((hit) => hit._id as string);
        if (ids.length > 0) await client.bulk({ refresh: true, operations: ids.map((_id) => ({ delete: { _index: checkpointIndex, _id } })) });
      }),
  };
}
