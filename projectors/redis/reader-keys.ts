// Where the Redis views live, in one place: the mappings write these names, the API reads them
// (through keysAt), the drift check reads them back. A key is the seed's name (section 4.1) with
// its owner's id as a Redis Cluster hash tag, `notification:unread:{42}`, so every key of one
// user shares a slot, and the generation in front, `g3:notification:unread:{42}`: generation N
// is a key prefix, not a database, because Redis Cluster has only database 0. The seed's name
// of a key is the key without its prefix and braces (seedName).

/** One generation's key prefix. */
export const generationPrefix = (generation: number) => `g${generation}:`;

/** The hash tag of a key: the text between its first `{` and the next `}` (what Redis Cluster hashes). */
export const tagOf = (key: string): string => {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  if (open < 0 || close < 0) throw new Error(`redis: key ${key} has no hash tag`);
  return key.slice(open + 1, close);
};

/** A tagged name: `name:{owner}`, or `{name}` for a key that is its own owner. */
export const tagged = (name: string, owner?: unknown, rest = '') => (owner === undefined ? `{${name}}` : `${name}:{${owner}}${rest}`);

/** The view keys readers read, without a generation's prefix. */
export const viewKeys = {
  notificationsRecent: (user: unknown) => tagged('notification:recent', user),
  notificationsUnread: (user: unknown) => tagged('notification:unread', user),
  following: (user: unknown) => tagged('user:following', user),
  followers: (user: unknown) => tagged('user:followers', user),
  conversations: (user: unknown) => tagged('user:conversations', user),
  // on the user's slot, beside user:conversations, so one user's list is read from one node
  conversationUnread: (user: unknown, conversation: unknown) => tagged('conversation:unread', user, `:${conversation}`),
  liveNow: tagged('stream:live'),
  streamMeta: (stream: unknown) => tagged('stream:meta', stream),
} as const;

export type ViewKeys = {
  [K in keyof typeof viewKeys]: (typeof viewKeys)[K] extends (...args: infer A) => string ? (...args: A) => string : string;
};

/** The view keys of generation N, as readers address them. */
export function keysAt(generation: number): ViewKeys {
  const prefix = generationPrefix(generation);
  return Object.fromEntries(
    Object.entries(viewKeys).map(([name, key]) => [name, typeof key === 'string' ? prefix + key : (...args: unknown[]) => prefix + (key as (...a: unknown[]) => string)(...args)]),
  ) as ViewKeys;
}

/** The seed's name of generation N's key: `g3:notification:unread:{42}` is `notification:unread:42`. */
export const seedName = (generation: number, key: string) => key.slice(generationPrefix(generation).length).replace(/[{}]/g, '');

/**
 * Caches the API and the recommendation workers fill (not views of PostgreSQL rows, so in no
 * generation): the seed's names as they are, one key per command, so they work on a cluster too.
 */
export const cacheKeys = {
  recommendedUsers: (user: unknown) => `user:recommended:${user}`,
  recommendedPosts: (user: unknown) => `recommendation:user:${user}`,
  trendingPosts: 'recommendation:trending',
} as const;
