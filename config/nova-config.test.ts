// Pure: what a process is told when a setting is missing or malformed, and the defaults it gets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, novaConfig } from './nova-config.ts';

test('a missing setting is a ConfigError naming the variable and what needed it', () => {
  const config = novaConfig({});
  const cases: [() => unknown, RegExp][] = [
    [config.databaseUrl, /^DATABASE_URL is not set \(PostgreSQL, the source of truth\)/],
    [config.schemaRegistryUrl, /^SCHEMA_REGISTRY_URL is not set \(the Avro writer schemas/],
    [config.kafkaConnectUrl, /^KAFKA_CONNECT_URL is not set \(Kafka Connect's REST API/],
    [config.pgAdminUrl, /^NOVA_PG_ADMIN_URL is not set \(the migration gate/],
    [config.clickhouse, /^CLICKHOUSE_URL is not set \(the analytics view\)/],
    [config.milvusAddress, /^MILVUS_ADDRESS is not set \(the embedding collections\)/],
  ];
  for (const [read, message] of cases) assert.throws(read, (error: unknown) => error instanceof ConfigError && message.test(error.message));
  // a group of settings names the one that is missing, not the first of the group
  assert.throws(() => novaConfig({ DATABASE_URL: 'postgres://db/nova' }).replicator(), { name: 'ConfigError', message: /^NOVA_PG_REPLICATION_USER is not set/ });
  assert.throws(() => novaConfig({ NEO4J_URL: 'bolt://graph' }).neo4j(), { name: 'ConfigError', message: /^NEO4J_PASSWORD is not set/ });
});

test('an empty setting counts as missing', () => {
  assert.throws(() => novaConfig({ REDIS_URL: '' }).redis(), { name: 'ConfigError', message: /^REDIS_URL is not set/ });
});

test('settings are read when asked for: one that is never asked for is never required', () => {
  assert.deepEqual(novaConfig({ KAFKA_BROKERS: 'a:9092,b:9092' }).kafkaBrokers(), ['a:9092', 'b:9092']);
});

test('the defaults: ClickHouse user and database `default` with no password, Neo4j user `neo4j`, the API on loopback', () => {
  assert.deepEqual(novaConfig({ CLICKHOUSE_URL: 'http://ch:8123' }).clickhouse(), { url: 'http://ch:8123', user: 'default', password: '', database: 'default' });
  // an empty CLICKHOUSE_DATABASE is the server's default; an empty user or password is kept as given
  assert.deepEqual(novaConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_USER: '', CLICKHOUSE_DATABASE: '' }).clickhouse(), { url: 'http://ch:8123', user: '', password: '', database: 'default' });
  assert.deepEqual(novaConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_USER: 'nova', CLICKHOUSE_PASSWORD: 'pw', CLICKHOUSE_DATABASE: 'views' }).clickhouse(), { url: 'http://ch:8123', user: 'nova', password: 'pw', database: 'views' });
  assert.equal(novaConfig({ NEO4J_URL: 'bolt://graph', NEO4J_PASSWORD: 'pw' }).neo4j().user, 'neo4j');
  assert.deepEqual(novaConfig({}).api(), { host: '127.0.0.1', port: 58090 });
});

test('the replication role is on DATABASE_URL\'s server', () => {
  const env = { DATABASE_URL: 'postgres://app@db/nova', NOVA_PG_REPLICATION_USER: 'debezium', NOVA_PG_REPLICATION_PASSWORD: 'pw' };
  assert.deepEqual(novaConfig(env).replicator(), { databaseUrl: 'postgres://app@db/nova', user: 'debezium', password: 'pw' });
});

test('a port that is no TCP port is refused, naming the variable and the value', () => {
  for (const bad of ['http', '-1', '65536', '80.5', '0x']) {
    assert.throws(() => novaConfig({ NOVA_API_PORT: bad }).api(), { name: 'ConfigError', message: `NOVA_API_PORT is a TCP port 0..65535, not ${JSON.stringify(bad)}` }, bad);
  }
  assert.equal(novaConfig({ NOVA_API_PORT: '0' }).api().port, 0);
  assert.equal(novaConfig({ NOVA_API_PORT: '61090' }).api().port, 61090);
});

test('Elasticsearch: one node or several, comma-separated; the index replicas 0 unless set, a whole number', () => {
  assert.deepEqual(novaConfig({ ELASTICSEARCH_URL: 'http://es:9200' }).elasticsearchNodes(), ['http://es:9200']);
  assert.deepEqual(novaConfig({ ELASTICSEARCH_URL: 'http://a:9200, http://b:9200,' }).elasticsearchNodes(), ['http://a:9200', 'http://b:9200']);
  assert.throws(() => novaConfig({ ELASTICSEARCH_URL: ' , ' }).elasticsearchNodes(), { name: 'ConfigError', message: 'ELASTICSEARCH_URL names no node' });
  assert.equal(novaConfig({}).elasticsearchReplicas(), 0);
  assert.equal(novaConfig({ ELASTICSEARCH_INDEX_REPLICAS: '1' }).elasticsearchReplicas(), 1);
  for (const bad of ['-1', '1.5', 'one']) {
    assert.throws(() => novaConfig({ ELASTICSEARCH_INDEX_REPLICAS: bad }).elasticsearchReplicas(), { name: 'ConfigError', message: `ELASTICSEARCH_INDEX_REPLICAS is a whole number from 0, not ${JSON.stringify(bad)}` }, bad);
  }
});
