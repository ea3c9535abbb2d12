// Dropping a replication slot: it takes the replication role, and the walsender of a stopped
// or failed task can linger on it a while (it runs as that role, so the role may end it).
import pg from 'pg';
import { novaConfig } from '../config/nova-config.ts';

export type Replicator = { databaseUrl: string; user: string; password: string };

export async function dropReplicationSlot({ databaseUrl, user, password }: Replicator, slot: string, timeoutMs = 60_000): Promise<void> {
  const url = new URL(databaseUrl);
  url.username = user;
  url.password = password;
  const client = new pg.Client({ connectionString: url.href });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (rows.length === 0) return;
      if (rows[0].active_pid) await client.query('SELECT pg_terminate_backend($1)', [rows[0].active_pid]);
      const dropped = await client.query('SELECT pg_drop_replication_slot($1)', [slot]).then(() => true, () => false);
      if (dropped) return;
      if (Date.now() > deadline) throw new Error(`replication slot ${slot} stayed in use for ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await client.end();
  }
}

/** The replication role from the stack's environment. */
export const replicatorFromEnv = (env: NodeJS.ProcessEnv): Replicator => novaConfig(env).replicator();
