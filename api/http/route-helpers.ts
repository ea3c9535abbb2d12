// What every domain's routes share: OpenAPI content shapes, and the user a request acts as.
import type { z } from '@hono/zod-openapi';
import type { Caller } from './auth.ts';
import { problems } from './problem.ts';

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

/** The user id the token acts as; a service token acts as no user, so what a user owns is not found for it. */
export function actingUser(c: { get(key: 'caller'): Caller }): string {
  const { userId } = c.get('caller');
  if (userId === null) throw problems.notFound('what a user owns, for a service token');
  return userId;
}
