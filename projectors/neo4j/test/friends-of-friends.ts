// The seed's friend-of-friend query (section 4.2), and the same question asked of PostgreSQL.
// As printed in the seed it does not compile on Neo4j 5 ("Cannot use aggregation in ORDER BY
// if there are no aggregate expressions in the preceding RETURN"), so the count moves into a
// WITH; what it returns and how it orders are the seed's.
import type pg from 'pg';
import { liveLabel } from '../graph-names.ts';

export const friendsOfFriendsCypher = (label: string = liveLabel) => `
  MATCH (me:${label} {id: $me})-[:FOLLOWS]->(friend)-[:FOLLOWS]->(recommended)
  WHERE NOT (me)-[:FOLLOWS]->(recommended) AND me <> recommended
  WITH recommended, COUNT(friend) AS mutual
  RETURN recommended.id, recommended.username
  ORDER BY mutual DESC
  LIMIT 20`;

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
