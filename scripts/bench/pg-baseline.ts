// The PostgreSQL side of the API bench's comparison: the same answers the API serves from its
// views, computed from PostgreSQL with its own indexes, by a minimal node:http server in a
// process of its own (pg-baseline-server.ts), so it competes with the load client for the CPU no
// more than the API does. It checks tokens as api/http/auth.ts does and opens its pool with
// api/db.ts's openPool, so authentication and pooling cost the same on both sides.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const baselineSql = {
  /** the newest 20, as GET /notifications's first page */
  recent: `SELECT id, type, actor_id, target_type, target_id, content, is_read, created_at, read_at
             FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT 20`,
  unread: `SELECT count(*) AS unread FROM notifications WHERE user_id = $1 AND is_read = false`,
  /** friends of friends by active follows, not followed already and not the user, by mutual count (friends-of-friends.ts in SQL) */
  suggestions: `SELECT f2.followee_id::text AS id, u.username, count(*) AS mutual
                  FROM follows f1
                  JOIN follows f2 ON f2.follower_id = f1.followee_id AND f2.status = 'active'
                  JOIN users u ON u.id = f2.followee_id
                 WHERE f1.follower_id = $1 AND f1.status = 'active' AND f2.followee_id <> $1
                   AND NOT EXISTS (SELECT 1 FROM follows mine WHERE mine.follower_id = $1 AND mine.followee_id = f2.followee_id AND mine.status = 'active')
                 GROUP BY f2.followee_id, u.username
                 ORDER BY mutual DESC, f2.followee_id
                 LIMIT $2`,
} as const;

export type BaselineMessage = { type: 'ready'; port: number } | { type: 'failed'; error: string };

export type PgBaseline = { url: string; pid: number; stop(): Promise<void> };

const script = fileURLToPath(new URL('./pg-baseline-server.ts', import.meta.url));

export async function startPgBaseline(env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<PgBaseline> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the PostgreSQL baseline server did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.on('message', (m: BaselineMessage) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve(m.port);
      else reject(new Error(`the PostgreSQL baseline server failed: ${m.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the PostgreSQL baseline server exited (${code}) before it was ready`)));
  }).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
