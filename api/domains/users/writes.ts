// Users and posts in PostgreSQL, each action with all of its side effects in the caller's
// transaction: counters in SQL (`count = count + 1`), notifications through notify().
import type { Tx } from '../../db.ts';
import { notify } from '../notifications/writes.ts';
import { mentionsIn } from './schemas.ts';
import { iso } from '../../http/columns.ts';


export async function createUser(tx: Tx, u: { username: string; avatar_url?: string; bio?: string }) {
  const { rows } = await tx.query('INSERT INTO users (username, avatar_url, bio) VALUES ($1, $2, $3) RETURNING id, username, avatar_url, bio, created_at', [u.username, u.avatar_url ?? null, u.bio ?? null]);
  const row = rows[0];
  await tx.query('INSERT INTO user_stats (user_id) VALUES ($1)', [row.id]);
  await tx.query('INSERT INTO notification_settings (user_id) VALUES ($1)', [row.id]);
  return { ...row, id: String(row.id), created_at: iso(row.created_at), follower_count: 0, following_count: 0, post_count: 0 };
}

export async function createPost(tx: Tx, authorId: string, text: string) {
  const { rows } = await tx.query('INSERT INTO posts (author_id, text) VALUES ($1, $2) RETURNING id, author_id, text, created_at', [authorId, text]);
  await tx.query('UPDATE user_stats SET post_count = post_count + 1, updated_at = now() WHERE user_id = $1', [authorId]);
  const row = rows[0];
  return { id: String(row.id), author_id: String(row.author_id), text: row.text as string, created_at: iso(row.created_at) };
}

async function postAuthor(tx: Tx, postId: string): Promise<string | undefined> {
  const { rows } = await tx.query('SELECT author_id FROM posts WHERE id = $1', [postId]);
  return rows[0] === undefined ? undefined : String(rows[0].author_id);
}

/** A like counts once per user and post: the second one changes nothing. undefined: no such post. */
export async function likePost(tx: Tx, userId: string, postId: string): Promise<{ new: boolean } | undefined> {
  const author = await postAuthor(tx, postId);
  if (author === undefined) return undefined;
  // one liker of one post at a time decides whether the like is new
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('like:' || $1 || ':' || $2, 0))`, [userId, postId]);
  const { rowCount } = await tx.query(
    `INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value)
     SELECT $1::bigint, 'post', $2::bigint, 'like', 1
      WHERE NOT EXISTS (SELECT 1 FROM user_interactions WHERE user_id = $1::bigint AND target_type = 'post' AND target_id = $2::bigint AND interaction_type = 'like')`,
    [userId, postId],
  );
  if (rowCount === 1) await notify(tx, { userId: author, type: 'like', actorId: userId, targetType: 'post', targetId: postId, content: { post_id: postId } });
  return { new: rowCount === 1 };
}

/** A comment, its interaction, and notifications to the post's author and to each user it mentions. undefined: no such post. */
export async function commentOnPost(tx: Tx, userId: string, postId: string, text: string) {
  const author = await postAuthor(tx, postId);
  if (author === undefined) return undefined;
  const { rows } = await tx.query('INSERT INTO comments (post_id, author_id, text) VALUES ($1, $2, $3) RETURNING id, created_at', [postId, userId, text]);
  const commentId = String(rows[0].id);
  await tx.query(`INSERT INTO user_interactions (user_id, target_type, target_id, interaction_type, interaction_value) VALUES ($1, 'post', $2, 'comment', 1)`, [userId, postId]);
  const excerpt = text.slice(0, 140);
  await notify(tx, { userId: author, type: 'comment', actorId: userId, targetType: 'post', targetId: postId, content: { post_id: postId, comment_id: commentId, text: excerpt } });
  // a mention is a user that exists; unknown names are text
  const names = mentionsIn(text);
  const mentioned = names.length === 0 ? [] : (await tx.query('SELECT id FROM users WHERE username = ANY ($1) ORDER BY id', [names])).rows.map((r) => String(r.id));
  for (const id of mentioned) {
    if (id === author) continue; // told of the comment already
    await notify(tx, { userId: id, type: 'mention', actorId: userId, targetType: 'comment', targetId: commentId, content: { post_id: postId, comment_id: commentId, text: excerpt } });
  }
  return { id: commentId, post_id: postId, author_id: userId, text, created_at: iso(rows[0].created_at), mentioned };
}
