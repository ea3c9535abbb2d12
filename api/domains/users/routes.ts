// Users and posts. Profiles are read from PostgreSQL on purpose: no view holds a profile with
// its counters (user_stats), and the seed reads counts from user_stats.
import { createRoute } from '@hono/zod-openapi';
import { router } from '../../app.ts';
import type { ApiDeps } from '../../deps.ts';
import { problems } from '../../http/problem.ts';
import { actingUser, idempotencyKey, jsonBody, jsonContent } from '../../http/route-helpers.ts';
import { respondToWrite } from '../../http/writes.ts';
import { comment, idParam, like, newComment, newPost, newUser, post, user } from './schemas.ts';
import { commentOnPost, createPost, createUser, likePost } from './writes.ts';

const tags = ['users and posts'];

export function userRoutes(deps: ApiDeps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'post', path: '/users', tags, request: { ...jsonBody(newUser), headers: idempotencyKey },
      description: 'Creates a user with their stats and default notification settings. Service tokens only (`scripts/nova token --service`): people sign up through an identity provider, which then mints their tokens.',
      responses: { 201: jsonContent(user, 'created'), 404: { description: 'not a service token' }, 409: { description: 'the username is taken' } },
    }),
    async (c) => {
      const caller = c.get('caller');
      if (!caller.service) throw problems.notFound('POST /users for a user token');
      const input = c.req.valid('json');
      return respondToWrite(c, deps, caller, input, async (tx) => ({ status: 201, body: await createUser(tx, input) }));
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/users/{id}', tags, request: { params: idParam },
      description: 'A public profile with its counters, from PostgreSQL on purpose (users and user_stats).',
      responses: { 200: jsonContent(user, 'the profile'), 404: { description: 'no such user' } },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { rows } = await deps.pool.query(
        `SELECT u.id::text, u.username, u.avatar_url, u.bio, u.created_at, coalesce(s.follower_count, 0) AS follower_count,
                coalesce(s.following_count, 0) AS following_count, coalesce(s.post_count, 0) AS post_count
           FROM users u LEFT JOIN user_stats s ON s.user_id = u.id WHERE u.id = $1`,
        [id],
      );
      const found = rows[0];
      if (!found) throw problems.notFound(`user ${id}`);
      return c.json({ ...found, created_at: (found.created_at as Date).toISOString() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post', path: '/posts', tags, request: { ...jsonBody(newPost), headers: idempotencyKey },
      responses: { 201: jsonContent(post, 'created') },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { text } = c.req.valid('json');
      return respondToWrite(c, deps, c.get('caller'), { text }, async (tx) => ({ status: 201, body: await createPost(tx, userId, text) }));
    },
  );

  app.openapi(
    createRoute({
      method: 'post', path: '/posts/{id}/likes', tags, request: { params: idParam, headers: idempotencyKey },
      description: 'Likes a post once (again: nothing changes, `new` is false); the author is notified unless they disabled likes or liked it themselves.',
      responses: { 200: jsonContent(like, 'liked'), 404: { description: 'no such post' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { id } = c.req.valid('param');
      return respondToWrite(c, deps, c.get('caller'), { id }, async (tx) => {
        const liked = await likePost(tx, userId, id);
        if (!liked) throw problems.notFound(`post ${id}`);
        return { status: 200, body: { post_id: id, liked: true, new: liked.new } };
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post', path: '/posts/{id}/comments', tags, request: { params: idParam, ...jsonBody(newComment), headers: idempotencyKey },
      description: 'Comments on a post: the author is notified (`comment`), and each existing user the text mentions as @username (`mention`).',
      responses: { 201: jsonContent(comment, 'created'), 404: { description: 'no such post' } },
    }),
    async (c) => {
      const userId = actingUser(c);
      const { id } = c.req.valid('param');
      const { text } = c.req.valid('json');
      return respondToWrite(c, deps, c.get('caller'), { id, text }, async (tx) => {
        const created = await commentOnPost(tx, userId, id, text);
        if (!created) throw problems.notFound(`post ${id}`);
        return { status: 201, body: created };
      });
    },
  );
  return app;
}
