// A mixed workload over the tables the Redis projector reads: inserts, updates and
// deletes chosen at random, committed in small transactions like an app would.
import type pg from 'pg';

type Ids = { users: number[]; follows: number[]; notifications: number[]; conversations: Array<{ id: number; a: number; b: number }>; messages: number[]; streams: number[] };

const pick = <T>(list: T[]): T | undefined => list[Math.floor(Math.random() * list.length)];

export async function runWorkload(db: pg.Client, options: { statements: number; tag: string; onProgress?: (done: number) => void | Promise<void> }) {
  const { statements, tag, onProgress } = options;
  const ids: Ids = { users: [], follows: [], notifications: [], conversations: [], messages: [], streams: [] };
  const one = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows[0];
  for (let i = 0; i < 20; i++) ids.users.push(Number((await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`${tag}-${i}`])).id));
  const pair = () => {
    const a = pick(ids.users) as number;
    let b = pick(ids.users) as number;
    while (b === a) b = pick(ids.users) as number;
    return [Math.min(a, b), Math.max(a, b)];
  };
  const actions: Array<() => Promise<unknown>> = [
    async () => ids.follows.push(Number((await one(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id`, pair()))?.id ?? 0)),
    async () => db.query(`UPDATE follows SET status = $2 WHERE id = $1`, [pick(ids.follows), pick(['active', 'blocked', 'muted'])]),
    async () => db.query(`DELETE FROM follows WHERE id = $1`, [pick(ids.follows)]),
    // a follow moves to another followee, then its status changes, in one transaction: both
    // land in one batch, and the pair the row left must still lose it (a unique clash undoes both)
    async () => {
      const id = pick(ids.follows);
      const [, followee] = pair() as [number, number];
      await db.query('SAVEPOINT move');
      try {
        await db.query(`UPDATE follows SET followee_id = $2 WHERE id = $1 AND follower_id <> $2`, [id, followee]);
        await db.query(`UPDATE follows SET status = $2 WHERE id = $1`, [id, pick(['active', 'blocked'])]);
        await db.query('RELEASE SAVEPOINT move');
      } catch {
        await db.query('ROLLBACK TO SAVEPOINT move');
      }
    },
    async () => ids.notifications.push(Number((await one(`INSERT INTO notifications (user_id, type, actor_id, content) VALUES ($1, 'like', $2, $3) RETURNING id`, [pick(ids.users), pick(ids.users), JSON.stringify({ n: Math.random() })])).id)),
    async () => ids.notifications.push(Number((await one(`INSERT INTO notifications (user_id, type, actor_id) VALUES ($1, 'follow', $2) RETURNING id`, [pick(ids.users), pick(ids.users)])).id)),
    async () => db.query(`UPDATE notifications SET is_read = NOT is_read, read_at = now() WHERE id = $1`, [pick(ids.notifications)]),
    async () => db.query(`DELETE FROM notifications WHERE id = $1`, [pick(ids.notifications)]),
    async () => {
      const [a, b] = pair() as [number, number];
      const row = await one(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id`, [a, b]);
      if (row) ids.conversations.push({ id: Number(row.id), a, b });
    },
    async () => {
      const c = pick(ids.conversations);
      if (c) ids.messages.push(Number((await one(`INSERT INTO messages (conversation_id, sender_id, content) VALUES ($1, $2, 'hi') RETURNING id`, [c.id, pick([c.a, c.b])])).id));
    },
    async () => {
      const c = pick(ids.conversations);
      if (c) ids.messages.push(Number((await one(`INSERT INTO messages (conversation_id, sender_id, content) VALUES ($1, $2, 'hello') RETURNING id`, [c.id, pick([c.a, c.b])])).id));
    },
    async () => db.query(`UPDATE messages SET is_deleted = true WHERE id = $1`, [pick(ids.messages)]),
    async () => db.query(`DELETE FROM messages WHERE id = $1`, [pick(ids.messages)]),
    async () => {
      const c = pick(ids.conversations);
      const last = pick(ids.messages) ?? 0;
      // a read mark only moves forward, as the API moves it (api/domains/messages/writes.ts):
      // the Redis view keeps no read message below it (README: Redis bounds)
      if (c) await db.query(`INSERT INTO message_read_status (user_id, conversation_id, last_read_message_id) VALUES ($1, $2, $3) ON CONFLICT (user_id, conversation_id) DO UPDATE SET last_read_message_id = GREATEST(message_read_status.last_read_message_id, EXCLUDED.last_read_message_id)`, [pick([c.a, c.b]), c.id, last]);
    },
    async () => ids.streams.push(Number((await one(`INSERT INTO live_streams (user_id, title, rtmp_url) VALUES ($1, 'stream', 'rtmp://x') RETURNING id`, [pick(ids.users)])).id)),
    async () => db.query(`UPDATE live_streams SET status = $2, started_at = now() WHERE id = $1`, [pick(ids.streams), pick(['live', 'ended', 'live'])]),
    async () => db.query(`DELETE FROM live_streams WHERE id = $1`, [pick(ids.streams)]),
  ];
  const perTransaction = 50;
  for (let done = 0; done < statements; done += perTransaction) {
    await db.query('BEGIN');
    for (let i = 0; i < perTransaction; i++) await (pick(actions) as () => Promise<unknown>)();
    await db.query('COMMIT');
    await onProgress?.(done + perTransaction);
  }
  return ids;
}
