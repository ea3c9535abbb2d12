// How a Nova process reaches Elasticsearch: the nodes ELASTICSEARCH_URL names. It retries
// nothing on one node: the projector's runtime retries each failure as its kind says, logged and
// counted in nova_projector_retries_total, and a reader answers at once, whereas the client's own
// retries (3, backed off) wait out up to ~10 s of an outage per request unseen. Given several
// nodes (a cluster), a request that fails on one goes to the next at once: one try per further
// node, and the client backs off only once its attempts reach the node count.
import { Client } from '@elastic/elasticsearch';
import { novaConfig } from '../../config/nova-config.ts';

export function connectElasticsearch(env: NodeJS.ProcessEnv, options: { requestTimeoutMs?: number } = {}): Client {
  const node = novaConfig(env).elasticsearchNodes();
  return new Client({ node, maxRetries: node.length - 1, ...(options.requestTimeoutMs === undefined ? {} : { requestTimeout: options.requestTimeoutMs }) });
}
