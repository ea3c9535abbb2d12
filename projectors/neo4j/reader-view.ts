// What readers see of the graph, as comparable data: the users they can reach, with the seed's
// properties (section 4.2), and the FOLLOWS between them, with created_at; no tombstones, no
// versions, no bookkeeping. Two views: `User` (key: the user id) and `FOLLOWS` (key:
// "follower->followee"). Read either through the label readers query (`live`), or from one
// generation as promoting it shows it (isVisible): reconcile compares the latter with
// PostgreSQL, the sink contract reads it, and the blue/green test checks the two agree for
// the live generation. Whole, or within a scope (some users, some pairs, and the pairs some
// users are in), so a key that changed while it was read can be compared again.
import neo4j, { type Driver } from 'neo4j-driver';
import { withSession } from './connection.ts';
import { followsType, isVisible, seedReaderGraph, userLabel, type ReaderGraph } from './graph-names.ts';

export type GraphViewName = 'User' | 'FOLLOWS';
export const graphViews: readonly GraphViewName[] = ['User', 'FOLLOWS'];
export type Props = Record<string, unknown>;
/** key -> properties, per view */
export type GraphView = Record<GraphViewName, Map<string, Props>>;
/** What to read instead of everything: these users, these pairs, and every pair one of `touching` is in. */
export type Scope = { users: string[]; pairs: Array<[string, string]>; touching: string[] };

export const pairKey = (follower: unknown, followee: unknown) => `${follower}->${followee}`;

// created_at as epoch seconds, as mapping/graph-op.ts's epochSeconds makes it
const secondsOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
export const userProps = (r: Props): Props => ({ username: r['username'] ?? null, avatar_url: r['avatar_url'] ?? null, bio: r['bio'] ?? null, created_at: secondsOrNull(r['created_at']) });
export const followProps = (r: Props): Props => ({ created_at: secondsOrNull(r['created_at']) });

/**
 * `live`: what the live label shows, as `readers` query it (by default the seed's `User`); a
 * generation: its nodes readers see once it is live.
 */
export async function readerView(driver: Driver, of: number | 'live', scope?: Scope, readers: ReaderGraph = seedReaderGraph): Promise<GraphView> {
  const [L, visible] = of === 'live' ? [readers.label, () => 'true'] : [userLabel(of), isVisible];
  const ints = (ids: string[]) => ids.map((id) => neo4j.int(id));
  const userFields = 'u.id AS id, u.username AS username, u.avatar_url AS avatar_url, u.bio AS bio, u.created_at AS created_at';
  const followFields = 'a.id AS follower, b.id AS followee, r.created_at AS created_at';
  return withSession(driver, async (session) => {
    const users = !scope
      ? await session.run(`MATCH (u:${L}) WHERE ${visible('u')} RETURN ${userFields}`)
      : await session.run(`UNWIND $ids AS id MATCH (u:${L} {id: id}) WHERE ${visible('u')} RETURN ${userFields}`, { ids: ints(scope.users) });
    // each one by its endpoints' index: `a.id IN $ids OR b.id IN $ids` would scan the generation
    const follows = !scope
      ? await session.run(`MATCH (a:${L})-[r:${followsType}]->(b:${L}) WHERE ${visible('a')} AND ${visible('b')} RETURN ${followFields}`)
      : await session.run(
          `CALL () {
             UNWIND $touching AS id MATCH (a:${L} {id: id})-[r:${followsType}]->(b:${L}) RETURN a, r, b
             UNION UNWIND $touching AS id MATCH (a:${L})-[r:${followsType}]->(b:${L} {id: id}) RETURN a, r, b
             UNION UNWIND $pairs AS p MATCH (a:${L} {id: p[0]})-[r:${followsType}]->(b:${L} {id: p[1]}) RETURN a, r, b
           }
           WITH a, r, b WHERE ${visible('a')} AND ${visible('b')}
           RETURN ${followFields}`,
          { touching: ints(scope.touching), pairs: scope.pairs.map(ints) },
        );
    const view: GraphView = { User: new Map(), FOLLOWS: new Map() };
    for (const r of users.records) view.User.set(String(r.get('id')), userProps(r.toObject()));
    for (const r of follows.records) {
      const key = pairKey(r.get('follower'), r.get('followee'));
      const seen = view.FOLLOWS.get(key);
      // a pair holds one relationship at most; more show up as a count PostgreSQL never has
      view.FOLLOWS.set(key, seen ? { ...seen, relationships: Number(seen['relationships'] ?? 1) + 1 } : followProps(r.toObject()));
    }
    return view;
  });
}
