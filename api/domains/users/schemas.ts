import { z } from '@hono/zod-openapi';
import { rowId } from '../../http/ids.ts';
import { text } from '../../http/text.ts';

export const newUser = z
  .object({
    username: z.string().regex(/^[A-Za-z0-9_]{3,50}$/, '3-50 letters, digits or underscores'),
    avatar_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    bio: text(0, 4000).optional(),
  })
  .strict()
  .openapi('NewUser');

export const user = z
  .object({
    id: z.string(),
    username: z.string(),
    avatar_url: z.string().nullable(),
    bio: z.string().nullable(),
    created_at: z.string(),
    follower_count: z.number().int(),
    following_count: z.number().int(),
    post_count: z.number().int(),
  })
  .openapi('User');

export const newPost = z.object({ text: text(1, 10_000) }).strict().openapi('NewPost');
export const post = z.object({ id: z.string(), author_id: z.string(), text: z.string(), created_at: z.string() }).openapi('Post');
export const newComment = z.object({ text: text(1, 4_000) }).strict().openapi('NewComment');
export const comment = z.object({ id: z.string(), post_id: z.string(), author_id: z.string(), text: z.string(), created_at: z.string(), mentioned: z.array(z.string()) }).openapi('Comment');
export const like = z.object({ post_id: z.string(), liked: z.literal(true), new: z.boolean() }).openapi('Like');
export const idParam = z.object({ id: rowId });

/** `@username` mentions in a text, each once, in order of appearance. */
export function mentionsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<![A-Za-z0-9_])@([A-Za-z0-9_]{3,50})(?![A-Za-z0-9_])/g)].map((m) => m[1] as string))].slice(0, 20);
}
