// Follow-graph reads: followers and following from the Redis sets (user:followers:{u},
// user:following:{u}), counts from user_stats; friend-of-friend suggestions from Neo4j (the
// seed's query, on the reader namespace's label), cached for an hour in user:recommended:{u}.
import neo4j, { type Session } from 'neo4j-driver';
import type { RedisClient } from '../../../projectors/redis/client.ts';
import { friendsOfFriendsCypher } from '../../../projectors/neo4j/friends-of-friends.ts';
import { cacheKeys, type ViewKeys } from '../../../projectors/redis/reader-keys.ts';

export const suggestionTtlSeconds = 3_600;

export type Suggestion = { id: string; username: string | null };

/** One SSCAN page: Redis's own cursor ("0" once the set is done). */
export async function membersPage(redis: RedisClient, key: string, cursor: string, limit: number): Promise<{ ids: string[]; next: string }> {
  const [next, ids] = await redis.sscan(key, cursor, 'COUNT', limit);
  return { ids, next };
}

export const followSets = { followers: (keys: ViewKeys) => keys.followers, following: (keys: ViewKeys) => keys.following } as const;

export async function suggestionsFromGraph(session: Session, label: string, userId: string): Promise<Suggestion[]> {
  const result = await session.run(friendsOfFriendsCypher(label), { me: neo4j.int(userId) });
  return result.records.map((r) => ({ id: String(r.get('recommended.id')), username: (r.get('recommended.username') as string | null) ?? null }));
}

export async function cachedSuggestions(ephemeral: RedisClient, userId: string): Promise<Suggestion[] | undefined> {
  const held = await ephemeral.get(cacheKeys.recommendedUsers(userId));
  return held === null ? undefined : (JSON.parse(held) as Suggestion[]);
}

export async function cacheSuggestions(ephemeral: RedisClient, userId: string, suggestions: Suggestion[]): Promise<void> {
  await ephemeral.set(cacheKeys.recommendedUsers(userId), JSON.stringify(suggestions), 'EX', suggestionTtlSeconds);
}
