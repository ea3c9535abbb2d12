// Opaque cursors: base64url JSON of where the next page starts. Opaque so a list can change
// how it pages without breaking clients; checked on the way in, so a forged one is a 400.
import { z } from '@hono/zod-openapi';

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
