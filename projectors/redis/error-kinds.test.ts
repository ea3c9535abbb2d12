// Redis failures classified by code: provoked on the real server where that is harmless to
// others sharing it (an unknown command, a missing script, a dropped connection, nobody
// listening), and as Redis spells the replies only a full, busy or starting server gives.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis, ReplyError } from 'ioredis';
import { env } from '../../scripts/stack.d/test/stack.ts';
import type { ErrorKind } from '../runtime/errors.ts';
import { redisError, redisKind, replyCode } from './error-kinds.ts';
import { createRedisSink } from './sink.ts';

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to fail');
}

describe('failures of the real server', () => {
  const redis = new Redis(env('REDIS_URL'));
  after(() => redis.disconnect());

  const cases: [string, () => Promise<unknown>, string, ErrorKind][] = [
    ['a command the server does not know', () => redis.call('NOVA.NO.SUCH.COMMAND'), 'ERR', 'fatal'],
    ['a script the server does not hold', () => redis.evalsha('0'.repeat(40), 0), 'NOSCRIPT', 'fatal'],
  ];
  for (const [name, provoke, code, kind] of cases) {
    test(`${name}: ${code}, ${kind}`, async () => {
      const error = await failureOf(provoke);
      assert.equal(replyCode(error), code, String(error));
      assert.equal(redisError(error, redis).kind, kind);
    });
  }

  test('a connection dropped under a client configured like the sink is transient', async () => {
    const client = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => {});
    try {
      await client.connect();
      const id = await client.client('ID');
      // sent while the client reconnects: it fails at once, with no reply code
      const failed = new Promise<unknown>((resolve) => client.once('reconnecting', () => resolve(failureOf(() => client.get('nova:nothing')))));
      await redis.client('KILL', 'ID', String(id));
      const error = await failed;
      assert.equal(replyCode(error), undefined, String(error));
      assert.equal(redisError(error, client).kind, 'transient');
    } finally {
      client.disconnect();
    }
  });

  test('a server nobody listens on: the sink cannot be created, transient', async () => {
    const error = await failureOf(() => createRedisSink({ target: { url: 'redis://127.0.0.1:1', cluster: false }, generation: 2, projector: 'nowhere' }));
    assert.equal((error as { kind?: unknown }).kind, 'transient', String(error));
  });
});

describe('replies only some server states give', () => {
  const kinds: [string, ErrorKind][] = [
    ["OOM command not allowed when used memory > 'maxmemory'.", 'stall'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.', 'transient'],
    ['LOADING Redis is loading the dataset in memory', 'transient'],
    ["READONLY You can't write against a read only replica.", 'transient'],
    ["MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", 'transient'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'fatal'],
  ];
  for (const [reply, kind] of kinds) {
    test(`${reply.split(' ', 1)[0]}: ${kind}`, () => assert.equal(redisKind(new ReplyError(reply), 'ready') ?? 'fatal', kind));
  }

  test('a full Redis is a stall with its own code (NOVA_S1005), not a crash: the partition waits for room', () => {
    const full = redisError(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."), { status: 'ready' } as never);
    assert.deepEqual([full.kind, full.code], ['stall', 'NOVA_S1005']);
  });

  test('the code is the first word only: a reply that merely mentions one is not classified by it', () => {
    assert.equal(redisKind(new ReplyError('ERR Error running script: OOM command not allowed'), 'ready'), undefined);
    assert.equal(redisKind(new Error('OOM command not allowed'), 'ready'), undefined, 'nor is an error that is not a reply');
  });
});
