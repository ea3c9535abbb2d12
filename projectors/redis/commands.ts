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
  | { cmd: 'CONVERSATIONS' } // every conversation, after a truncate of what they derive from
  | { cmd: 'EDGE'; rows: string; following: string; followers: string; follower: string; followee: string }
  // a TRUNCATE of the source table: every key matching the patterns goes (first in its op)
  | { cmd: 'TRUNCATE'; patterns: string[] };

/**
 * One row's effects, applied only if its version is above the row's stored one (a snapshot
 * read, version 0, only where none is stored) and its (commitOrder, version) above the table's
 * last TRUNCATE (runtime/decode/version.ts).
 */
export type RedisOp = { table: string; id: string; version: bigint; commitOrder: bigint; commands: RedisCommand[] };
