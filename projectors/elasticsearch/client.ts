// How a Nova process reaches Elasticsearch: the nodes ELASTICSEARCH_URL names. It retries
// nothing on one node: the projector's runtime retries each failure as its kind says, logged and
// counted in nova_projector_retries_total, and a reader answers at once, whereas the client's own
// retries (3, backed off) wait out up to ~10 s of an outage per request unseen. Given several
// nodes (a cluster), a request that fails on one goes to the next at once: one try per further
// node, and the client backs off only once its attempts reach the node count. A short-lived tool
// (generations, drift) may ask for the client's own retries instead (maxRetries).
import { Client } from '@elastic/elasticsearch';
import { novaConfig } from '../../config/nova-config.ts';

/** The client's own default: 3 retries, backed off, for a caller that waits anyway. */
export const clientRetries = 3;

export function connectElasticsearch(env: NodeJS.ProcessEnv, options: { requestTimeoutMs?: number; maxRetries?: number } = {}): Client {
  const node = novaConfig(env).elasticsearchNodes();
  const { requestTimeoutMs, maxRetries = node.length - 1 } = options;
  return new Client({ node, maxRetries, ...(requestTimeoutMs === undefined ? {} : { requestTimeout: requestTimeoutMs }) });
}
