// One row in every table the connector projects (their foreign keys in order), for tests that
// need each topic to carry a record: the CDC tests, and the schema contract, which needs a
// registered writer schema per subject to check anything at all.
import type pg from 'pg';

const vector = (x: number) => `{${Array.from({ length: 256 }, () => x).join(',')}}`;

/** The row's primary key per table, and the two users the rows hang off. */
export async function insertOneRowEach(db: pg.ClientBase, tag: string): Promise<{ keys: Record<string, object>; users: [{ id: string }, { id: string }] }> {
  const one = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows[0];
  const a = await one(`INSERT INTO users (username, bio) VALUES ($1, 'a') RETURNING id`, [`${tag}-a`]);
  const b = await one(`INSERT INTO users (username) VALUES ($1) RETURNING id`, [`${tag}-b`]);
  const [p1, p2] = [a.id, b.id].map(Number).sort((x, y) => x - y);
  const post = await one(`INSERT INTO posts (author_id, text) VALUES ($1, 'p') RETURNING id`, [a.id]);
  const conv = await one(`INSERT INTO conversations (participant1_id, participant2_id) VALUES ($1, $2) RETURNING id`, [p1, p2]);
  const keys: Record<string, object> = {
    users: { id: Number(a.id) },
    posts: { id: Number(post.id) },
    conversations: { id: Number(conv.id) },
    follows: { id: Number((await one(`INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) RETURNING id`, [a.id, b.id])).id) },
    user_stats: { user_id: Number((await one(`INSERT INTO user_stats (user_id) VALUES ($1) RETURNING user_id`, [a.id])).user_id) },
    messages: { id: Number((await one(`INSERT INTO messages (conversation_id, sender_id, content, metadata) VALUES ($1, $2, 'hi', '{"k": [1, 2]}') RETURNING id`, [conv.id, a.id])).id) },
    message_read_status: await one(`INSERT INTO message_read_status (user_id, conversation_id, last_read_message_id) VALUES ($1, $2, 1) RETURNING user_id, conversation_id`, [b.id, conv.id]).then((r) => ({ user_id: Number(r.user_id), conversation_id: Number(r.conversation_id) })),
    notifications: { id: Number((await one(`INSERT INTO notifications (user_id, type, actor_id, content) VALUES ($1, 'follow', $2, '{"n": 1}') RETURNING id`, [b.id, a.id])).id) },
    notification_settings: { user_id: Number((await one(`INSERT INTO notification_settings (user_id, types_disabled) VALUES ($1, '{like}') RETURNING user_id`, [a.id])).user_id) },
    push_tokens: { id: Number((await one(`INSERT INTO push_tokens (user_id, platform, token) VALUES ($1, 'ios', $2) RETURNING id`, [a.id, `tok-${tag}`])).id) },
    live_streams: { id: Number((await one(`INSERT INTO live_streams (user_id, title, rtmp_url) VALUES ($1, 't', 'rtmp://x') RETURNING id`, [a.id])).id) },
    user_interactions: { id: Number((await one(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value) VALUES ($1, 'post', $2, 'like', 0.5) RETURNING id`, [a.id, post.id])).id) },
    user_embeddings: { user_id: Number((await one(`INSERT INTO user_embeddings (user_id, embedding, model_version) VALUES ($1, $2, 'v1') RETURNING user_id`, [a.id, vector(0.5)])).user_id) },
    post_embeddings: { post_id: Number((await one(`INSERT INTO post_embeddings (post_id, embedding, model_version) VALUES ($1, $2, 'v1') RETURNING post_id`, [post.id, vector(0.25)])).post_id) },
  };
  return { keys, users: [a, b] };
}
