// How readers (the API) reach the search views: a client with bounded requests and no retries
// of its own (a reader degrades within its bound instead of waiting out an outage), the alias
// names their reader namespace queries, and the projector's checkpoints in the live
// generation, which the reader alias shows and which is looked up again at most once a second.
import type { Client } from '@elastic/elasticsearch';
import { connectElasticsearch } from './client.ts';
import type { Checkpoint } from '../runtime/sink.ts';
import { loadCheckpoints } from './checkpoint.ts';
import { shared } from '../runtime/shared-read.ts';
import { liveGeneration } from './generations.ts';
import { readerAliasName, type AliasName } from './index-names.ts';

export type ElasticsearchViews = {
  client: Client;
  /** the name readers search for `alias` (`messages` by default) */
  alias(alias: AliasName): string;
  checkpoints(): Promise<Checkpoint[]>;
  close(): Promise<void>;
};

export function openElasticsearchViews(env: NodeJS.ProcessEnv, options: { projector?: string; timeoutMs?: number } = {}): ElasticsearchViews {
  const { projector = 'elasticsearch', timeoutMs = 1_500 } = options;
  const client = connectElasticsearch(env, { requestTimeoutMs: timeoutMs });
  const live = shared(() => liveGeneration(client, env), 1_000);
  return {
    client,
    alias: (name) => readerAliasName(name, env),
    async checkpoints() {
      const generation = await live();
      return generation === undefined ? [] : loadCheckpoints(client, { projector, generation });
    },
    close: () => client.close(),
  };
}
