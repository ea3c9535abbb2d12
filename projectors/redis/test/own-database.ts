// A Redis database (a generation) of a test's own: one that is empty and not the live
// generation, claimed in the same step as it is found empty, so that no other test or benchmark
// takes it meanwhile (they pass over a database that holds a key). It is emptied only while the
// claim is still this test's, so a test can never wipe a database someone else uses.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisGenerations } from '../generations.ts';

const claimKey = 'nova:test:claim';

const claimIfEmpty = `
if redis.call('DBSIZE') > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

// KEYS[1]: the claim; ARGV[1]: our token, ARGV[2]: '1' to keep the claim. FLUSHDB and the claim
// back in one step: no moment where the database looks free to another test.
const emptyIfOurs = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('the claim on this database is not ours') end
redis.call('FLUSHDB')
if ARGV[2] == '1' then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

export type OwnDatabase = {
  generation: number;
  /** a client on it */
  redis: Redis;
  /** removes everything but the claim */
  reset(): Promise<void>;
  /** removes everything, the claim too, and disconnects */
  release(): Promise<void>;
};

export async function claimDatabase(url: string): Promise<OwnDatabase> {
  const live = await redisGenerations.live({ REDIS_URL: url });
  const token = randomUUID();
  const candidates = Array.from({ length: 15 }, (_, i) => i + 1).filter((db) => db !== live).sort(() => Math.random() - 0.5);
  for (const generation of candidates) {
    const redis = new Redis(url, { db: generation });
    redis.on('error', () => {}); // a test that stops Redis meets it through its commands
    if ((await redis.eval(claimIfEmpty, 1, claimKey, token)) === 1) {
      const empty = async (keepClaim: boolean) => void (await redis.eval(emptyIfOurs, 1, claimKey, token, keepClaim ? '1' : '0'));
      return {
        generation,
        redis,
        reset: () => empty(true),
        async release() {
          await empty(false);
          redis.disconnect();
        },
      };
    }
    redis.disconnect();
  }
  throw new Error('no empty Redis database (1..15, not the live one) to claim');
}
