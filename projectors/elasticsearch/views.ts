// How readers (the API) reach the search views: a client with bounded requests and no retries
// of its own (a reader degrades within its bound instead of waiting out an outage), the alias
// names their reader namespace queries, and the projector's checkpoints in the live
// generation, which the reader alias shows and which is looked up again at most once a second.
import { Client } from '@elastic/elasticsearch';
import { novaConfig } from '../../config/nova-config.ts';
import type { Checkpoint } from '../runtime/sink.ts';
import { loadCheckpoints } from './checkpoint.ts';
import { aliasTargets, readerAliasName, type AliasName } from './index-names.ts';

export type ElasticsearchViews = {
  client: Client;
  /** the name readers search for `alias` (`messages` by default) */
  alias(alias: AliasName): string;
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

const generationOf = (index: string) => Number(index.slice(index.lastIndexOf('_v') + 2));

export function openElasticsearchViews(env: NodeJS.ProcessEnv, options: { projector?: string; timeoutMs?: number } = {}): ElasticsearchViews {
  const { projector = 'elasticsearch', timeoutMs = 1_500 } = options;
  const client = new Client({ node: novaConfig(env).elasticsearchUrl(), maxRetries: 0, requestTimeout: timeoutMs });
  const alias = (name: AliasName) => readerAliasName(name, env);
  let live: { generation: number | undefined; at: number } | undefined;
  const liveGeneration = async () => {
    if (!live || Date.now() - live.at > 1_000) {
      const [index] = await aliasTargets(client, alias('messages'));
      live = { generation: index === undefined ? undefined : generationOf(index), at: Date.now() };
    }
    return live.generation;
  };
  return {
    client,
    alias,
    async checkpoints() {
      const generation = await liveGeneration();
      return generation === undefined ? [] : loadCheckpoints(client, { projector, generation });
    },
    close: () => client.close(),
  };
}
