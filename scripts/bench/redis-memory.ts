// What the Redis views keep after a long history, per item of it: the bounded-views experiment
// of issue 11. Each history (projectors/redis/test/history.ts) goes straight to the Redis sink
// in a claimed generation of its own, at --items and at a tenth of it; what the generation
// holds is summed with MEMORY USAGE over its keys, less what it held empty. Bounded means the
// ratio of the two is near 1 (ten times the history, the same bytes), and bytes per item falls
// as the history grows.
import type { Change } from '../../projectors/runtime/decode/index.ts';
import { redisTarget } from '../../projectors/redis/client.ts';
import { createRedisSink } from '../../projectors/redis/sink.ts';
import { conversationHistory, feed, notificationHistory, retained, type Retained } from '../../projectors/redis/test/history.ts';
import { claimGeneration } from '../../projectors/redis/test/own-generation.ts';
import { note, progress, round } from './measure.ts';

type Run = Retained & { items: number; bytesPerItem: number };

const histories: Record<string, { what: string; owners: number; owner: string; changes: (items: number) => Iterable<Change> }> = {
  notifications: { what: 'notifications for 10 users, each read right after it arrived', owners: 10, owner: 'user', changes: (items) => notificationHistory({ users: 10, count: items, readAfter: 0 }) },
  messages: { what: 'messages in one conversation of two users, each read by the other right after it arrived', owners: 1, owner: 'conversation', changes: (items) => conversationHistory({ count: items }) },
};

async function measure(name: string, items: number, env: NodeJS.ProcessEnv): Promise<Run> {
  const own = await claimGeneration(env);
  try {
    const sink = await createRedisSink({ target: redisTarget(env), generation: own.generation, projector: 'redis-memory-bench' });
    const empty = await retained(own.redis, own.key('*'));
    const changes = [...(histories[name] as (typeof histories)[string]).changes(items)];
    const shown = progress(`${name} x ${items.toLocaleString('en')}: changes applied`, changes.length);
    try {
      await feed(sink, changes, { onBatch: shown });
    } finally {
      await sink.close();
    }
    const full = await retained(own.redis, own.key('*'));
    const kept = { keys: full.keys - empty.keys, bytes: full.bytes - empty.bytes, members: full.members - empty.members };
    return { items, ...kept, bytesPerItem: round(kept.bytes / items, 2) };
  } finally {
    await own.release();
  }
}

export async function benchRedisMemory(options: { items: number; env: NodeJS.ProcessEnv }) {
  const { items, env } = options;
  const results: Record<string, { small: Run; large: Run; growth: number; perOwner: number }> = {};
  note(`redis-memory: on ${redisTarget(env).cluster ? 'a Redis Cluster' : 'one Redis node'} (${new URL(redisTarget(env).url).host})`);
  for (const name of Object.keys(histories)) {
    const small = await measure(name, Math.max(1, Math.round(items / 10)), env);
    const large = await measure(name, items, env);
    const history = histories[name] as (typeof histories)[string];
    const growth = round(large.bytes / small.bytes, 2);
    const perOwner = Math.round(large.bytes / history.owners);
    results[name] = { small, large, growth, perOwner };
    console.log(`${name}: ${history.what}`);
    for (const run of [small, large]) {
      console.log(`  after ${run.items.toLocaleString('en')}: ${run.bytes.toLocaleString('en')} bytes in ${run.keys} keys (${run.members} members), ${run.bytesPerItem} bytes per ${name.slice(0, -1)}`);
    }
    console.log(`  ten times the history: ${growth.toFixed(2)}x the bytes (1.00 = bounded); ${perOwner.toLocaleString('en')} bytes per ${history.owner}`);
  }
  console.log(JSON.stringify({ bench: 'redis-memory', items, results }));
}
