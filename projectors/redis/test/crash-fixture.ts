// The Redis sink for runtime/testing/crash-child.ts. crash() fires right after a batch's last
// write (its checkpoints, after every tag's script) and before the runtime records anything (its
// checkpoints in memory, its events, the Kafka offset commit), in the first call with effects,
// once it has printed the checkpoints that call wrote, for the test to find. (A crash between
// the tags' scripts and the checkpoints is the random kill -9s' case: each tag's own bookkeeping
// skips what it had processed, apply.lua.)
import type { CrashFixture } from '../../runtime/testing/crash-child.ts';
import type { RedisOp } from '../commands.ts';
import { redisProjector } from '../index.ts';

const fixture: CrashFixture<RedisOp> = {
  definition: redisProjector,
  async crashingSink(generation, env, crash) {
    const sink = await redisProjector.createSink({ generation, env, shadow: true });
    return {
      ...sink,
      async apply(ops, checkpoints, onRejected) {
        await sink.apply(ops, checkpoints, onRejected);
        if (ops.length === 0) return; // a partition's first checkpoint alone (onAssign) has no effects to lose
        const wrote = checkpoints.map(({ topic, partition, nextOffset }) => ({ topic, partition, nextOffset }));
        process.stdout.write(`${JSON.stringify({ msg: 'script returned', checkpoints: wrote })}\n`); // a pipe: written before the kill
        crash();
      },
    };
  },
};

export default fixture;
