// How every Nova process reaches what it needs, read from one environment (the stack writes
// it to $NOVA_STATE_DIR/stack.env; production sets the same names). Each setting is read when a
// process first asks for it, so a projector that never talks to Neo4j never requires NEO4J_URL,
// and a missing one fails naming the variable and who needed it.
import { readerNamespace } from '../projectors/runtime/reader-namespace.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = NodeJS.ProcessEnv;

function required(env: Env, name: string, purpose: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is not set (${purpose}); \`scripts/stack env\` prints the local stack's`);
  return value;
}

/** A whole-number setting from 0 to `max`, or `fallback` when unset; `what` names the range in the refusal. */
function wholeNumber(env: Env, name: string, fallback: number, max: number, what: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new ConfigError(`${name} is ${what}, not ${JSON.stringify(raw)}`);
  return value;
}
const port = (env: Env, name: string, fallback: number) => wholeNumber(env, name, fallback, 65_535, 'a TCP port 0..65535');
const count = (env: Env, name: string, fallback: number) => wholeNumber(env, name, fallback, Infinity, 'a whole number from 0');

/** How API tokens are checked: a shared secret (development) or an issuer's published keys (production). */
export type JwtConfig =
  | { kind: 'secret'; secret: Uint8Array; issuer: string; audience: string }
  | { kind: 'jwks'; jwksUrl: URL; issuer: string; audience: string };

export function jwtConfig(env: Env): JwtConfig {
  const issuer = env.NOVA_JWT_ISSUER || 'nova-dev';
  const audience = env.NOVA_JWT_AUDIENCE || 'nova-api';
  if (env.NOVA_JWT_JWKS_URL) return { kind: 'jwks', jwksUrl: new URL(env.NOVA_JWT_JWKS_URL), issuer, audience };
  const secret = required(env, 'NOVA_JWT_SECRET', 'the API checks tokens with it; or set NOVA_JWT_JWKS_URL to an issuer\'s keys');
  if (secret.length < 32) throw new ConfigError('NOVA_JWT_SECRET is at least 32 characters');
  return { kind: 'secret', secret: new TextEncoder().encode(secret), issuer, audience };
}

/** Every setting a Nova process may need, each read on first use. */
export function novaConfig(env: Env = process.env) {
  const databaseUrl = () => required(env, 'DATABASE_URL', 'PostgreSQL, the source of truth');
  const clickhouseUrl = () => required(env, 'CLICKHOUSE_URL', 'the analytics view');
  return {
    env,
    databaseUrl,
    /** a role that may create and drop databases */
    pgAdminUrl: () => required(env, 'NOVA_PG_ADMIN_URL', 'the migration gate builds a scratch database with it'),
    /** the replication role, on DATABASE_URL's server: only it may end a slot's walsender and drop the slot */
    replicator: () => ({
      databaseUrl: databaseUrl(),
      user: required(env, 'NOVA_PG_REPLICATION_USER', 'dropping a replication slot'),
      password: required(env, 'NOVA_PG_REPLICATION_PASSWORD', 'dropping a replication slot'),
    }),
    /** REDIS_URL names one node, or with REDIS_CLUSTER=true any node of a Redis Cluster (the rest are discovered) */
    redis: () => ({ url: required(env, 'REDIS_URL', 'the Redis views'), cluster: env.REDIS_CLUSTER === 'true' }),
    kafkaBrokers: () => required(env, 'KAFKA_BROKERS', 'the change topics').split(','),
    schemaRegistryUrl: () => required(env, 'SCHEMA_REGISTRY_URL', 'the Avro writer schemas of the change topics'),
    kafkaConnectUrl: () => required(env, 'KAFKA_CONNECT_URL', "Kafka Connect's REST API, where the Debezium connector runs"),
    /** ELASTICSEARCH_URL: one node, or several comma-separated (a cluster: the client moves to another when one fails) */
    elasticsearchNodes: () => {
      const nodes = required(env, 'ELASTICSEARCH_URL', 'the search views').split(',').map((url) => url.trim()).filter((url) => url !== '');
      if (nodes.length === 0) throw new ConfigError('ELASTICSEARCH_URL names no node');
      return nodes;
    },
    /** replicas of each index the projector creates: 0 on one node (a replica could never be placed), 1 or more on a cluster */
    elasticsearchReplicas: () => count(env, 'ELASTICSEARCH_INDEX_REPLICAS', 0),
    neo4j: () => ({ url: required(env, 'NEO4J_URL', 'the social graph'), user: env.NEO4J_USER ?? 'neo4j', password: required(env, 'NEO4J_PASSWORD', 'the social graph') }),
    clickhouseUrl,
    /** user `default` with no password and the server's `default` database unless set (the database must exist) */
    clickhouse: () => ({ url: clickhouseUrl(), user: env.CLICKHOUSE_USER ?? 'default', password: env.CLICKHOUSE_PASSWORD ?? '', database: env.CLICKHOUSE_DATABASE || 'default' }),
    milvusAddress: () => required(env, 'MILVUS_ADDRESS', 'the embedding collections'),
    /** how long a Milvus sink attempt may write after checking its owner epoch (projectors/milvus/owners.ts) */
    milvusWriteLeaseMs: () => {
      const ms = count(env, 'MILVUS_WRITE_LEASE_MS', 5_000);
      if (ms === 0) throw new ConfigError('MILVUS_WRITE_LEASE_MS is 0: no attempt could write');
      return ms;
    },
    readerNamespace: () => readerNamespace(env),
    jwt: () => jwtConfig(env),
    /** the API binds loopback unless told otherwise (behind a proxy in production) */
    api: () => ({ host: env.NOVA_API_HOST || '127.0.0.1', port: port(env, 'NOVA_API_PORT', 58090) }),
    /** where streamers publish (a stream key is appended) and viewers play (`<id>.m3u8`): the media servers' addresses */
    streamUrls: () => ({ rtmpBaseUrl: env.NOVA_RTMP_BASE_URL || 'rtmp://127.0.0.1:1935/live', hlsBaseUrl: env.NOVA_HLS_BASE_URL || 'http://127.0.0.1:8080/hls' }),
  };
}

export type NovaConfig = ReturnType<typeof novaConfig>;
