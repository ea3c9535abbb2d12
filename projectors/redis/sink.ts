// The Redis sink. Generation N is the key prefix `gN:` (reader-keys.ts), on one node or a Redis
// Cluster alike. A batch goes as one script per hash tag (apply.lua: the tag's effects and its
// bookkeeping together, so each op applies at most once per tag, exactly as the script argues),
// then the conversations' published counts onto their participants' slots (publish.lua), then
// the checkpoints: a crash anywhere resumes from the last checkpoint and every tag skips what it
// had processed. A TRUNCATE is a sweep over the generation's keys, between the ops before it
// and the ops after it.
import { readFileSync } from 'node:fs';
import { replayTopic } from '../runtime/dead-letter.ts';
import { versionText } from '../runtime/decode/index.ts';
import type { Checkpoint, CheckpointStore, Sink, StoreOp } from '../runtime/sink.ts';
import { connect, openRedis, scan, unlinkAll, type RedisClient, type RedisTarget } from './client.ts';
import type { RedisCommand, RedisOp, RedisRowOp, RedisTruncateOp } from './commands.ts';
import { redisError } from './error-kinds.ts';
import { assertFormat, markFormat } from './format.ts';
import { assertGeneration } from './generations.ts';
import { generationPrefix, tagged } from './reader-keys.ts';

const applyScript = readFileSync(new URL('./apply.lua', import.meta.url), 'utf8');
const publishScript = readFileSync(new URL('./publish.lua', import.meta.url), 'utf8');

// A generation's own bookkeeping, on one slot (keys without the generation's prefix)
const metaTag = 'meta';
export const checkpointKey = (projector: string) => tagged(`nova:checkpoint:${projector}`, metaTag);
export const truncatedKey = tagged('nova:truncated', metaTag);
const sweptKey = tagged('nova:truncate-swept', metaTag);
export const seenKey = (tag: string) => tagged('nova:seen', tag);
const conversationSeqsKey = (user: string) => tagged('nova:user:conversation-seqs', user);
// sequence numbers that must only grow (publish.lua compares them): a TRUNCATE leaves them
const monotonicCounters = ['nova:conversation:publish-seq:', 'nova:user:conversation-seqs:'];

type NovaRedis = RedisClient & {
  novaApply(key: string, payload: string): Promise<Array<number | string>>;
  novaPublish(key: string, payload: string): Promise<number>;
  novaCheckpoint(key: string, ...fields: string[]): Promise<number>;
};

/**
 * Checkpoints only move forward: a partition's previous holder, still finishing a batch after a
 * rebalance gave the partition to another instance, cannot set it back (its effects are skipped
 * by each tag's bookkeeping, apply.lua). KEYS[1]: the checkpoint hash; ARGV: field, value, next
 * offset, for each partition.
 */
const forwardOnly = `
for i = 1, #ARGV, 3 do
  local stored = redis.call('HGET', KEYS[1], ARGV[i])
  if not stored or tonumber(cjson.decode(stored).nextOffset) < tonumber(ARGV[i + 2]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`;

/** A checkpoint as stored: the commit order as decimal text, since JSON numbers are doubles. */
type Stored = { nextOffset: string; commitOrder: string | null };

/** The checkpoints as the checkpoint hash holds them (field `topic:partition`). */
export function checkpointsFromHash(saved: Record<string, string>): Checkpoint[] {
  return Object.entries(saved).map(([field, value]) => {
    const split = field.lastIndexOf(':');
    const { nextOffset, commitOrder } = JSON.parse(value) as Stored;
    return { topic: field.slice(0, split), partition: Number(field.slice(split + 1)), nextOffset, commitOrder: commitOrder === null ? null : BigInt(commitOrder) };
  });
}

/** What CLIENT LIST names a sink's connections. */
export const sinkConnectionName = (projector: string, generation: number) => `nova-${projector}-g${generation}`;

const positionOf = (op: { commitOrder: bigint; version: bigint }) => versionText(op.commitOrder) + versionText(op.version);

export async function createRedisSink(options: { target: RedisTarget; generation: number; projector: string }): Promise<Sink<RedisOp> & CheckpointStore> {
  const { target, generation, projector } = options;
  assertGeneration(generation);
  const redis = openRedis(target, { name: sinkConnectionName(projector, generation) }) as NovaRedis;
  redis.defineCommand('novaApply', { numberOfKeys: 1, lua: applyScript });
  redis.defineCommand('novaPublish', { numberOfKeys: 1, lua: publishScript });
  redis.defineCommand('novaCheckpoint', { numberOfKeys: 1, lua: forwardOnly });
  const prefix = generationPrefix(generation);
  const key = (name: string) => prefix + name;
  // dead letters handed back come from here, each with its old position (apply.lua, rule 4)
  const letters = replayTopic(projector);

  const io = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      await connect(redis);
      return await work();
    } catch (error) {
      throw redisError(error, redis);
    }
  };

  try {
    assertFormat(generation, await io(() => markFormat(redis, { prefix, checkpointKey: checkpointKey(projector) })));
  } catch (error) {
    redis.disconnect();
    throw error;
  }

  /** Every tag's share of `ops` (each tag in batch order), then the participants' slots. */
  async function applyRows(ops: Array<StoreOp<RedisOp> & { op: RedisRowOp }>, truncated: Record<string, string>, derive: Map<string, RedisCommand[]> = new Map()) {
    const byTag = new Map<string, unknown[]>();
    for (const { op, change } of ops) {
      const { topic, partition, offset } = change.position;
      const entry = { table: op.table, id: op.id, version: versionText(op.version), order: versionText(op.commitOrder), source: `${topic}:${partition}`, offset: Number(offset), letter: topic === letters, holds: op.holds, commands: op.commands };
      (byTag.get(op.tag) ?? byTag.set(op.tag, []).get(op.tag)!).push(entry);
    }
    for (const tag of derive.keys()) if (!byTag.has(tag)) byTag.set(tag, []);
    const results = await Promise.all(
      [...byTag].map(([tag, entries]) => redis.novaApply(key(seenKey(tag)), JSON.stringify({ prefix, tag, truncated, ops: entries, derive: derive.get(tag) ?? [] }))),
    );
    const byUser = new Map<string, Array<[string, string]>>();
    for (const result of results) {
      for (let i = 1; i < result.length; i += 3) {
        const [conversation, user, value] = [String(result[i]), String(result[i + 1]), String(result[i + 2])];
        (byUser.get(user) ?? byUser.set(user, []).get(user)!).push([conversation, value]);
      }
    }
    await Promise.all([...byUser].map(([user, entries]) => redis.novaPublish(key(conversationSeqsKey(user)), JSON.stringify({ prefix, user, entries }))));
  }

  /**
   * The table's keys go, a page at a time (readers keep being answered), once: the truncate's
   * position is recorded first, so ops below it are refused from then on, and the sweep marked
   * done last, so a crash midway sweeps again and a replay after it does not. It stops between
   * pages once its partition is revoked (`signal`): the partition's new owner sweeps again.
   */
  async function applyTruncate(op: RedisTruncateOp, truncated: Record<string, string>, signal?: AbortSignal) {
    const at = positionOf(op);
    const swept = await redis.hget(key(sweptKey), op.table);
    if (swept !== null && swept >= at) return;
    if (!((truncated[op.table] ?? '') >= at)) {
      await redis.hset(key(truncatedKey), op.table, at);
      truncated[op.table] = at;
    }
    const kept = (k: string) => monotonicCounters.some((counter) => k.startsWith(prefix + counter));
    for await (const page of scan(redis, `${prefix}*`)) {
      signal?.throwIfAborted();
      await unlinkAll(redis, page.filter((k) => op.families.some((family) => k.startsWith(prefix + family)) && !kept(k)));
    }
    if (op.recomputeConversations) {
      const participants = key('nova:conversation:participants:');
      for await (const page of scan(redis, `${participants}*`)) {
        const derive = new Map(page.map((k) => [k.slice(participants.length + 1, -1), [{ cmd: 'CONVERSATION', conversation: k.slice(participants.length + 1, -1) } as RedisCommand]]));
        await applyRows([], truncated, derive);
      }
    }
    await redis.hset(key(sweptKey), op.table, at);
  }

  // A sink call that holds a TRUNCATE runs alone in this process: the runtime keeps two calls
  // in flight, and a sweep would erase what the other call writes meanwhile (changes after the
  // truncate, of another partition), which that call's tags then skip on any replay. (Another
  // instance's calls are not held back: README, Known limitations.)
  const running = new Set<Promise<unknown>>();
  let alone: Promise<unknown> | undefined;
  async function admitted(exclusive: boolean, work: () => Promise<void>): Promise<void> {
    while (alone) await alone.catch(() => undefined);
    if (!exclusive) {
      const call = work();
      running.add(call);
      return call.finally(() => running.delete(call));
    }
    let release = () => {};
    alone = new Promise<void>((resolve) => (release = resolve));
    try {
      await Promise.allSettled([...running]);
      await work();
    } finally {
      alone = undefined;
      release();
    }
  }

  return {
    apply: (ops, checkpoints: Checkpoint[], _onRejected, call) => admitted(ops.some((o) => o.op.kind === 'truncate'), () => io(async () => {
        const truncated = await redis.hgetall(key(truncatedKey));
        let rows: Array<StoreOp<RedisOp> & { op: RedisRowOp }> = [];
        for (const storeOp of ops) {
          if (storeOp.op.kind === 'row') {
            rows.push(storeOp as StoreOp<RedisOp> & { op: RedisRowOp });
            continue;
          }
          await applyRows(rows, truncated);
          rows = [];
          await applyTruncate(storeOp.op, truncated, call?.signal);
        }
        await applyRows(rows, truncated);
        // revoked meanwhile: the partition's new owner writes its checkpoints from here on
        call?.signal?.throwIfAborted();
        if (checkpoints.length === 0) return;
        const fields = checkpoints.flatMap((c) => {
          const stored: Stored = { nextOffset: c.nextOffset, commitOrder: c.commitOrder === null ? null : String(c.commitOrder) };
          return [`${c.topic}:${c.partition}`, JSON.stringify(stored), c.nextOffset];
        });
        await redis.novaCheckpoint(key(checkpointKey(projector)), ...fields);
    })),
    load: async () => checkpointsFromHash(await io(() => redis.hgetall(key(checkpointKey(projector))))),
    async close() {
      redis.disconnect();
    },
  };
}
