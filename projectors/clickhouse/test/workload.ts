// A mixed workload on user_interactions, in transactions of 1-8 statements (some rolled back):
// inserts, updates of every projected column, metadata-only updates (a TOASTed metadata then
// arrives as UNCHANGED), bursts of updates to one row, and deletes. Values include hostile text,
// NULLs, NaN, the infinities and a double beyond Float32. Every id it wrote is noted, rolled
// back ones too (they must not appear anywhere).
import { randomBytes } from 'node:crypto';
import type pg from 'pg';

export type InteractionWorkloadResult = { touched: Set<string> };

const targetTypes = ['post', 'user', 'tag', "it's", 'back\\slash', '你好', '🎉 emoji', 'line\nbreak', '', "'; DROP TABLE user_behavior_events; --"];
const interactionTypes = ['view', 'like', 'comment', 'share', 'ÄÖÜ', 'tab\there'];
const values = [() => Math.random() * 10, () => Math.random(), () => null, () => Number.NaN, () => Infinity, () => -Infinity, () => 1e300, () => 1e-40];
const createdAts = [() => new Date(), () => new Date(Math.floor(Math.random() * 4_000_000_000_000)), () => null];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
/** half the time a metadata large and random enough for PostgreSQL to TOAST it */
const metadata = () => (Math.random() < 0.5 ? { big: randomBytes(3_000).toString('hex') } : pick([null, { src: 'feed' }, { q: "it's \"quoted\"" }]));

export async function runInteractionWorkload(
  db: pg.Client,
  options: { statements: number; tag: string; onProgress?: (done: number) => void | Promise<void> },
): Promise<InteractionWorkloadResult> {
  const { statements, tag, onProgress } = options;
  const users: number[] = [];
  for (let i = 0; i < 4; i++) users.push(Number((await db.query(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`${tag}-${i}`])).rows[0].id));
  const touched = new Set<string>();
  let live: number[] = [];

  const insert = async () => {
    const sql = `INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value, metadata, created_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`;
    const id = Number((await db.query(sql, [pick(users), pick(targetTypes), Math.floor(Math.random() * 1e12), pick(interactionTypes), pick(values)(), metadata(), pick(createdAts)()])).rows[0].id);
    touched.add(String(id));
    live.push(id);
  };
  const update = (sql: string, params: () => unknown[]) => async () => {
    if (live.length === 0) return insert();
    await db.query(sql, [pick(live), ...params()]);
  };
  const actions: Array<[weight: number, run: () => Promise<unknown>]> = [
    [8, insert],
    [3, update(`UPDATE user_interactions SET interaction_value = $2 WHERE id = $1`, () => [pick(values)()])],
    [2, update(`UPDATE user_interactions SET interaction_type = $2, target_type = $3, target_id = $4 WHERE id = $1`, () => [pick(interactionTypes), pick(targetTypes), Math.floor(Math.random() * 1e6)])],
    [1, update(`UPDATE user_interactions SET created_at = $2 WHERE id = $1`, () => [pick(createdAts)()])],
    [1, update(`UPDATE user_interactions SET user_id = $2 WHERE id = $1`, () => [pick(users)])],
    [1, update(`UPDATE user_interactions SET metadata = $2 WHERE id = $1`, () => [metadata()])],
    [1, async () => {
      if (live.length === 0) return insert();
      const id = pick(live);
      for (let i = 0; i < 3; i++) await db.query(`UPDATE user_interactions SET interaction_value = $2 WHERE id = $1`, [id, i]);
    }],
    [3, async () => {
      if (live.length === 0) return insert();
      const id = pick(live);
      await db.query(`DELETE FROM user_interactions WHERE id = $1`, [id]);
      live = live.filter((x) => x !== id);
    }],
  ];
  const weighted = actions.flatMap(([weight, run]) => Array.from({ length: weight }, () => run));

  let done = 0;
  while (done < statements) {
    const before = [...live];
    const size = 1 + Math.floor(Math.random() * 8);
    await db.query('BEGIN');
    for (let i = 0; i < size; i++) await pick(weighted)();
    if (Math.random() < 0.05) {
      await db.query('ROLLBACK');
      live = before;
    } else {
      await db.query('COMMIT');
    }
    done += size;
    await onProgress?.(done);
  }
  return { touched };
}
