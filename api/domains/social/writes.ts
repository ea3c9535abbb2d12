// The follow graph in PostgreSQL. A pair (follower -> followee) has one row whose status is
// active, muted (the follower muted the followee: no longer counted) or blocked (the followee
// blocked the follower, who cannot follow again). Every status change moves user_stats in
// SQL and, when a follow becomes active, notifies the followee. One change of one pair at a
// time (an advisory lock), so two concurrent follows count once.
import type { Tx } from '../../db.ts';
import { problems } from '../../http/problem.ts';
import { notify } from '../notifications/writes.ts';

type Status = 'active' | 'muted' | 'blocked';

async function lockPair(tx: Tx, follower: string, followee: string): Promise<Status | undefined> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('follow:' || $1 || ':' || $2, 0))`, [follower, followee]);
  const { rows } = await tx.query('SELECT status FROM follows WHERE follower_id = $1 AND followee_id = $2', [follower, followee]);
  return rows[0]?.status as Status | undefined;
}

/** +1 or -1 on both counters of a pair whose follow started or stopped counting. */
async function count(tx: Tx, follower: string, followee: string, delta: 1 | -1) {
  const bump = (column: 'following_count' | 'follower_count') =>
    `INSERT INTO user_stats (user_id, ${column}) VALUES ($1, GREATEST($2, 0))
     ON CONFLICT (user_id) DO UPDATE SET ${column} = GREATEST(user_stats.${column} + $2, 0), updated_at = now()`;
  // rows locked in user id order: a follow and its reverse running at once would otherwise
  // each hold one user's row and wait for the other's (a deadlock, 40P01)
  const updates: [string, 'following_count' | 'follower_count'][] = [[follower, 'following_count'], [followee, 'follower_count']];
  if (BigInt(followee) < BigInt(follower)) updates.reverse();
  for (const [userId, column] of updates) await tx.query(bump(column), [userId, delta]);
}

async function setStatus(tx: Tx, follower: string, followee: string, was: Status | undefined, now: Status) {
  if (was === undefined) await tx.query('INSERT INTO follows (follower_id, followee_id, status) VALUES ($1, $2, $3)', [follower, followee, now]);
  else if (was !== now) await tx.query('UPDATE follows SET status = $3 WHERE follower_id = $1 AND followee_id = $2', [follower, followee, now]);
  if (was === 'active' && now !== 'active') await count(tx, follower, followee, -1);
  if (was !== 'active' && now === 'active') await count(tx, follower, followee, 1);
}

const notSelf = (me: string, other: string) => {
  if (me === other) throw problems.invalid([{ field: 'id', message: 'that is the caller' }]);
};

export async function follow(tx: Tx, me: string, them: string): Promise<{ new: boolean }> {
  notSelf(me, them);
  const was = await lockPair(tx, me, them);
  if (was === 'blocked') throw problems.notFound(`user ${them}`); // they blocked the caller
  if (was === 'active') return { new: false };
  await setStatus(tx, me, them, was, 'active');
  await notify(tx, { userId: them, type: 'follow', actorId: me, targetType: 'user', targetId: me });
  return { new: true };
}

export async function unfollow(tx: Tx, me: string, them: string): Promise<{ removed: boolean }> {
  notSelf(me, them);
  const was = await lockPair(tx, me, them);
  if (was === undefined || was === 'blocked') return { removed: false }; // a block stays: it is theirs
  await tx.query('DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2', [me, them]);
  if (was === 'active') await count(tx, me, them, -1);
  return { removed: true };
}

/** The caller stops seeing `them` (their follow of them, if any, stops counting). */
export async function mute(tx: Tx, me: string, them: string) {
  notSelf(me, them);
  const was = await lockPair(tx, me, them);
  if (was === 'blocked') return; // muting never lifts their block (the caller could follow again)
  await setStatus(tx, me, them, was, 'muted');
}

/** `them` can no longer follow the caller; a follow of theirs ends. */
export async function block(tx: Tx, me: string, them: string) {
  notSelf(me, them);
  await setStatus(tx, them, me, await lockPair(tx, them, me), 'blocked');
}
