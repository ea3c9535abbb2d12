// Nova's own processes under supervisord (scripts/stack processes): all six come up and answer
// /healthz; a kill -9 of the API and of a projector is answered by a new process; with
// --instances 2 each projector gains a second instance in its consumer group, restarted after a
// kill -9 like the first; `processes down` stops them all and leaves the servers running.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { redisGenerations } from '../../../projectors/redis/generations.ts';
import { projectorGroup } from '../../../projectors/runtime/source/kafkajs-source.ts';
import { env, stack, waitFor } from './stack.ts';

const processes = ['projector-redis', 'projector-clickhouse', 'projector-elasticsearch', 'projector-neo4j', 'projector-milvus', 'api'];
// each process's port, as the stack wrote it to stack.env (a clone's .env may move them)
const portOf = (name: string) => env(name === 'api' ? 'NOVA_API_PORT' : `NOVA_PROJECTOR_${name.slice('projector-'.length).toUpperCase()}_PORT`);
const healthy = async (port: string) => (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.ok === true;
const tail = (name: string) => {
  try {
    return readFileSync(`${env('NOVA_STATE_DIR')}/processes/${name}.log`, 'utf8').split('\n').slice(-5).join('\n');
  } catch {
    return 'none';
  }
};
const pidOf = (status: string, name: string, port: string) => status.split('\n').find((line) => line.includes(`127.0.0.1:${port} `))?.trim().split(/\s+/)[3];

after(() => stack('processes', 'down'));

test('the projectors and the API run supervised: up, restarted after kill -9, down', { timeout: 400_000 }, async () => {
  const at = Object.fromEntries(processes.map((name) => [name, portOf(name)]));
  await stack('processes');
  // each must answer; a failure shows the end of that process's log (a crash loop names itself)
  for (const name of processes) {
    await waitFor(`${name} to answer /healthz`, async () => ((await healthy(at[name] as string)) ? true : undefined), 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; its log ends:\n${tail(name)}`);
    });
  }
  const status = await stack('status').catch((error: { stdout: string }) => error.stdout);
  for (const victim of ['api', 'projector-redis']) {
    const pid = pidOf(status, victim, at[victim] as string);
    assert.match(pid ?? '', /^\d+$/, `${victim} is in the status table with its pid`);
    process.kill(Number(pid), 'SIGKILL');
    await waitFor(`${victim} to be restarted`, async () => {
      const now = pidOf(await stack('status').catch((error: { stdout: string }) => error.stdout), victim, at[victim] as string);
      return now && now !== '-' && now !== pid && (await healthy(at[victim] as string)) ? now : undefined;
    }, 60_000);
  }

  // a second instance of each projector, on its port + 100, in the same consumer group as the first
  await stack('processes', '--instances', '2');
  const second = String(Number(at['projector-redis']) + 100);
  await waitFor('projector-redis-2 to answer /healthz', async () => ((await healthy(second)) ? true : undefined), 60_000);
  const admin = new Kafka({ clientId: 'nova-processes-test', brokers: [env('KAFKA_BROKERS')], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const group = projectorGroup('redis', (await redisGenerations.live(process.env)) ?? 1);
    const members = async () => (await admin.describeGroups([group])).groups[0];
    await waitFor('the redis projector group to hold two members', async () => {
      const g = await members();
      return g?.state === 'Stable' && g.members.length === 2 ? true : undefined;
    }, 120_000);
    const pid = pidOf(await stack('status').catch((error: { stdout: string }) => error.stdout), 'projector-redis-2', second);
    assert.match(pid ?? '', /^\d+$/, 'projector-redis-2 is in the status table with its pid');
    process.kill(Number(pid), 'SIGKILL');
    await waitFor('projector-redis-2 to be restarted and rejoin the group', async () => {
      const now = pidOf(await stack('status').catch((error: { stdout: string }) => error.stdout), 'projector-redis-2', second);
      const g = await members();
      return now && now !== '-' && now !== pid && g?.state === 'Stable' && g.members.length === 2 ? true : undefined;
    }, 120_000);
  } finally {
    await admin.disconnect();
  }

  await stack('processes', 'down');
  for (const name of processes) assert.equal(await healthy(at[name] as string), false, `${name} stopped`);
  assert.equal(await healthy(second), false, 'projector-redis-2 stopped');
  assert.match(await stack('status').catch((error: { stdout: string }) => error.stdout), /^postgres .* yes$/m, 'the servers stay up');
});
