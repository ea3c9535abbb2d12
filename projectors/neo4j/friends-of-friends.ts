// The seed's friend-of-friend query (section 4.2), as readers (the API) ask it of the live
// generation's label (views.ts) or of the seed's `User`. A deleted user's tombstone has no
// FOLLOWS left (graph-writes.ts), so no tombstone is reached through one.
// As printed in the seed it does not compile on Neo4j 5 ("Cannot use aggregation in ORDER BY
// if there are no aggregate expressions in the preceding RETURN"), so the count moves into a
// WITH; what it returns and how it orders are the seed's.
import { liveLabel } from './graph-names.ts';

export const friendsOfFriendsCypher = (label: string = liveLabel) => `
  MATCH (me:${label} {id: $me})-[:FOLLOWS]->(friend)-[:FOLLOWS]->(recommended)
  WHERE NOT (me)-[:FOLLOWS]->(recommended) AND me <> recommended
  WITH recommended, COUNT(friend) AS mutual
  RETURN recommended.id, recommended.username
  ORDER BY mutual DESC
  LIMIT 20`;
