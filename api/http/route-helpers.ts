// What every domain's routes share: OpenAPI content shapes, and the user a request acts as.
import { z } from '@hono/zod-openapi';
import type { Caller } from './auth.ts';
import { problems } from './problem.ts';

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
/** The header every create accepts (http/writes.ts keeps the promise). */
export const idempotencyKey = z.object({ 'idempotency-key': z.string().max(255).optional().openapi({ description: 'a retry with the same key returns the first response and writes nothing' }) });

export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

/** The user id the token acts as; a service token acts as no user, so what a user owns is not found for it. */
export function actingUser(c: { get(key: 'caller'): Caller }): string {
  const { userId } = c.get('caller');
  if (userId === null) throw problems.notFound('what a user owns, for a service token');
  return userId;
}
