// A mixed workload over users and follows, on users of its own: inserts (some bios big enough
// to be TOASTed), updates, follows blocked, muted and active again, unfollowed and followed
// again with a new row, rows moved to another pair, and users deleted after their follows (in
// one transaction, as the foreign keys demand). Small transactions, like an app's.
import type pg from 'pg';

export type WorkloadResult = { /** every user id written, deleted ones too */ userIds: number[] };

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)] as T;
const bigBio = () => `long bio ${'ä 長い '.repeat(800)}${Math.random()}`; // > 2 kB: stored TOASTed

export async function runGraphWorkload(
  db: pg.Client,
  options: { statements: number; tag: string; onProgress?: (done: number) => void | Promise<void> },
): Promise<WorkloadResult> {
  const { statements, tag, onProgress } = options;
  const touched = new Set<number>();
  const alive: number[] = [];
  let serial = 0;
  let done = 0;
  const run = async (sql: string, params: unknown[]) => {
    done += 1;
    return (await db.query(sql, params)).rows;
  };
  const insertUser = async () => {
    const [row] = await run(`INSERT INTO users (username, avatar_url, bio) VALUES ($1, $2, $3) RETURNING id`, [`${tag}-${++serial}`, pick([null, 'https://cdn.example/a.png']), pick([null, 'hi', '你好 🎉', bigBio()])]);
    const id = Number(row.id);
    touched.add(id);
    alive.push(id);
  };
  const pair = () => [pick(alive), pick(alive)];
  const followId = async () => (await run(`SELECT id FROM follows WHERE follower_id = ANY($1::bigint[]) ORDER BY random() LIMIT 1`, [alive]))[0]?.id;

  const actions: Array<() => Promise<unknown>> = [
    insertUser,
    async () => run(`UPDATE users SET bio = $2, avatar_url = $3 WHERE id = $1`, [pick(alive), pick([null, 'new bio', bigBio()]), pick([null, `https://cdn.example/${serial}.png`])]),
    // bio untouched: with a TOASTed bio the change carries it only through the old row
    async () => run(`UPDATE users SET username = $2 WHERE id = $1`, [pick(alive), `${tag}-${++serial}`]),
    async () => run(`INSERT INTO follows (follower_id, followee_id, status) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [...pair(), pick(['active', 'active', 'muted'])]),
    async () => run(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, pair()),
    async () => run(`UPDATE follows SET status = $2 WHERE id = $1`, [await followId(), pick(['active', 'blocked', 'muted', 'active'])]),
    async () => run(`DELETE FROM follows WHERE id = $1`, [await followId()]),
    // unfollow and follow again: the pair gets a new row id, most likely on another partition
    async () => {
      const [row] = await run(`DELETE FROM follows WHERE id = $1 RETURNING follower_id, followee_id`, [await followId()]);
      if (row) await run(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2)`, [row.follower_id, row.followee_id]);
    },
    // the row moves to another pair (if that pair has no row yet)
    async () =>
      run(`UPDATE follows f SET followee_id = $2 WHERE f.id = $1 AND NOT EXISTS (SELECT 1 FROM follows o WHERE o.follower_id = f.follower_id AND o.followee_id = $2)`, [await followId(), pick(alive)]),
    async () => {
      if (alive.length < 8) return insertUser();
      const id = alive.splice(Math.floor(Math.random() * alive.length), 1)[0] as number;
      await run(`DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1`, [id]);
      await run(`DELETE FROM users WHERE id = $1`, [id]);
    },
  ];

  for (let i = 0; i < 12; i++) await insertUser();
  while (done < statements) {
    await db.query('BEGIN');
    for (let i = 0; i < 20; i++) await pick(actions)();
    await db.query('COMMIT');
    await onProgress?.(done);
  }
  return { userIds: [...touched] };
}
