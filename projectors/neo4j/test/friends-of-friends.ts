// The seed's friend-of-friend question asked of PostgreSQL: the oracle for the Cypher in
// ../friends-of-friends.ts.
import type pg from 'pg';

export { friendsOfFriendsCypher } from '../friends-of-friends.ts';

/** [id, username] in the seed's order; only active follows are followers. */
export async function friendsOfFriendsInPostgres(db: pg.Client, me: number): Promise<Array<[number, string]>> {
  const { rows } = await db.query(
    `SELECT f2.followee_id AS id, u.username, count(*) AS mutual
       FROM follows f1
       JOIN follows f2 ON f2.follower_id = f1.followee_id AND f2.status = 'active'
       JOIN users u ON u.id = f2.followee_id
      WHERE f1.follower_id = $1 AND f1.status = 'active' AND f2.followee_id <> $1
        AND NOT EXISTS (SELECT 1 FROM follows f3 WHERE f3.follower_id = $1 AND f3.followee_id = f2.followee_id AND f3.status = 'active')
      GROUP BY f2.followee_id, u.username
      ORDER BY mutual DESC
      LIMIT 20`,
    [me],
  );
  return rows.map((r) => [Number(r.id), r.username]);
}
