// The Redis projector's end-to-end suite (redis.e2e.test.ts, kill -9s and a replay among it) on
// the Redis Cluster profile: three masters, three replicas (scripts/stack up redis-cluster,
// started here if it is not running). The same code as on one node; only REDIS_URL and
// REDIS_CLUSTER differ, for this process and the projectors it starts.
import { stack, stackEnv } from '../../scripts/stack.d/test/stack.ts';

await stack('up', 'redis-cluster');
const settings = await stackEnv();
process.env.REDIS_URL = settings.get('REDIS_CLUSTER_URL');
process.env.REDIS_CLUSTER = 'true';
await import('./redis.e2e.test.ts');
