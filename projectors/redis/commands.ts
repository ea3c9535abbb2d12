// What the Redis mappings produce, and what apply.lua executes. Plain data, so a mapping
// is a pure function and its tests are tables of fixtures.
export type RedisCommand =
  | { cmd: 'SADD' | 'SREM' | 'ZREM' | 'HDEL'; key: string; member: string }
  | { cmd: 'ZADD'; key: string; score: number; member: string }
  | { cmd: 'HSET'; key: string; member: string; value: string }
  | { cmd: 'SET'; key: string; value: string }
  | { cmd: 'DEL'; key: string }
  // derived state, recomputed once per batch from what the commands above maintain
  | { cmd: 'COUNT'; key: string; set: string }
  | { cmd: 'RECENT'; key: string; index: string; items: string; limit: number }
  | { cmd: 'CONVERSATION'; conversation: string }
  | { cmd: 'EDGE'; rows: string; following: string; followers: string; follower: string; followee: string }
  // a TRUNCATE of the source table: every key matching the patterns goes
  | { cmd: 'TRUNCATE'; patterns: string[] };

/** One row's effects, applied only if its LSN is newer than what the store holds for that row. */
export type RedisOp = { table: string; id: string; lsn: number; commands: RedisCommand[] };
