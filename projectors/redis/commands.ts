// What the Redis mappings produce, and what apply.lua executes. Plain data, so a mapping is a
// pure function and its tests are tables of fixtures. Keys are without a generation's prefix
// (reader-keys.ts); every key of one op carries the op's hash tag, so one script per tag touches
// one Redis Cluster slot.
export type RedisCommand =
  | { cmd: 'SADD' | 'SREM' | 'ZREM' | 'HDEL'; key: string; member: string }
  | { cmd: 'ZADD'; key: string; score: number; member: string }
  | { cmd: 'HSET'; key: string; member: string; value: string }
  | { cmd: 'SET'; key: string; value: string }
  | { cmd: 'DEL'; key: string }
  // derived state, recomputed once per script from what the commands above maintain
  | { cmd: 'COUNT'; key: string; set: string }
  // the newest `limit` as JSON; holds the newest `keep` (> limit) and every unread item older than them
  | { cmd: 'RECENT'; key: string; index: string; items: string; unread: string; rows: string; limit: number; keep: number }
  | { cmd: 'CONVERSATION'; conversation: string }
  | { cmd: 'EDGE'; rows: string; edge: string; member: string };

/**
 * One row's effects on one tag's keys. It applies unless the tag's bookkeeping says it already
 * did (apply.lua states the rules); `holds` says whether the tag keeps the row afterwards (its
 * version is kept only while it does: what the view holds bounds what the bookkeeping holds).
 */
export type RedisRowOp = {
  kind: 'row';
  tag: string;
  table: string;
  /** the row's identity within the tag (a row seen from two sides, a follow, has one per side) */
  id: string;
  version: bigint;
  commitOrder: bigint;
  holds: boolean;
  commands: RedisCommand[];
};

/**
 * A TRUNCATE of the source table: every key of the generation whose name (without the prefix)
 * starts with one of `families` goes, and later ops of the table below its (commitOrder,
 * version) are refused; then every conversation is derived again if what they derive from went.
 */
export type RedisTruncateOp = { kind: 'truncate'; table: string; version: bigint; commitOrder: bigint; families: string[]; recomputeConversations: boolean };

export type RedisOp = RedisRowOp | RedisTruncateOp;
