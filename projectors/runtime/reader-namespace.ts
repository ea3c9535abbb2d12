// Where readers look. By default the seed's names: the Elasticsearch aliases `messages`, `posts`
// and `users`, the Neo4j label `User`, the ClickHouse view `user_behavior_events`, the Milvus
// aliases, the Redis live-generation pointer. NOVA_READER_NAMESPACE gives a second Nova on the
// same servers reader names and live pointers of its own, so it can promote, rebuild and drop
// generations without moving what the app reads: the blue/green tests run in one, and a staging
// API could. Generations themselves are shared by number (a namespace picks numbers nobody else
// uses); only which one is live, and the names that show it, belong to the namespace.

const namespacePattern = /^[a-z][a-z0-9]{0,23}$/;

/** The namespace env sets, or undefined for the seed's names; throws on one no store can carry in a name. */
export function readerNamespace(env: NodeJS.ProcessEnv): string | undefined {
  const namespace = env.NOVA_READER_NAMESPACE;
  if (namespace === undefined || namespace === '') return undefined;
  if (!namespacePattern.test(namespace)) {
    throw new Error(`NOVA_READER_NAMESPACE is 1-24 lower-case letters and digits, starting with a letter (it becomes part of index, label and key names), not ${JSON.stringify(namespace)}`);
  }
  return namespace;
}

/** `name` as readers of env's namespace see it: the name itself by default, `<namespace>_<name>` in a namespace. */
export function readerName(name: string, env: NodeJS.ProcessEnv): string {
  const namespace = readerNamespace(env);
  return namespace === undefined ? name : `${namespace}_${name}`;
}
