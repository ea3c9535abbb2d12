// Opaque cursors: base64url JSON of where the next page starts. Opaque so a list can change
// how it pages without breaking clients; checked on the way in, so a forged one is a 400.
import { z } from '@hono/zod-openapi';
import { problems } from './problem.ts';

export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position a cursor holds, or undefined when it is not one `shape` accepts. */
export function decodeCursor<T>(cursor: string, shape: z.ZodType<T>): T | undefined {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'page size, 1..100' }),
  cursor: z.string().max(512).optional().openapi({ description: 'from the previous page\'s next_cursor' }),
});

/** The position a list's `cursor` query value holds: undefined for none, a 400 naming the field for one that is not this list's. */
export function cursorFrom<T>(cursor: string | undefined, shape: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  const position = decodeCursor(cursor, shape);
  if (position === undefined) throw problems.invalid([{ field: 'cursor', message: 'not a cursor of this list' }]);
  return position;
}
