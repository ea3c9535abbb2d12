// A Redis generation of a test's own: a number nobody else uses, claimed with SET NX (so no
// other test or benchmark takes it meanwhile) and never the live one. Its keys are removed only
// while the claim is still this test's, so a test can never wipe a generation someone else uses.
import { randomInt, randomUUID } from 'node:crypto';
import { connect, openRedis, redisTarget, type RedisClient } from '../client.ts';
import { redisGenerations, removeGeneration } from '../generations.ts';
import { generationPrefix, keysAt, type ViewKeys } from '../reader-keys.ts';

const claimKey = (generation: number) => `nova:test:claim:${generation}`;

export type OwnGeneration = {
  generation: number;
  /** a client of the server (or cluster) it lives on */
  redis: RedisClient;
  /** its view keys, as readers address them */
  keys: ViewKeys;
  /** one of its keys by its name without the prefix (sink.ts, reader-keys.ts) */
  key(name: string): string;
  /** removes its keys, keeping the claim */
  reset(): Promise<void>;
  /** removes its keys and the claim, and disconnects */
  release(): Promise<void>;
};

/** `env`: REDIS_URL (and REDIS_CLUSTER) of the server to claim on. */
export async function claimGeneration(env: NodeJS.ProcessEnv): Promise<OwnGeneration> {
  const redis = await connect(openRedis(redisTarget(env)));
  const live = await redisGenerations.live(env);
  const token = randomUUID();
  for (let attempt = 0; attempt < 20; attempt++) {
    const generation = randomInt(100, 1_000_000);
    if (generation === live || (await redis.set(claimKey(generation), token, 'NX')) !== 'OK') continue;
    const ours = async () => {
      if ((await redis.get(claimKey(generation))) !== token) throw new Error(`the claim on redis generation ${generation} is not ours`);
    };
    return {
      generation,
      redis,
      keys: keysAt(generation),
      key: (name) => generationPrefix(generation) + name,
      async reset() {
        await ours();
        await removeGeneration(redis, generation);
      },
      async release() {
        await ours();
        await removeGeneration(redis, generation);
        await redis.del(claimKey(generation));
        redis.disconnect();
      },
    };
  }
  throw new Error('no free Redis generation to claim after 20 tries');
}
