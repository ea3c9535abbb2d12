// Text a user sends, for every domain's schemas. PostgreSQL text cannot hold NUL: it is refused
// here as a 400 naming the field, not met later as a failed INSERT.
import { z } from '@hono/zod-openapi';

export const text = (min: number, max: number) => z.string().min(min).max(max).refine((value) => !value.includes('\u0000'), 'must not contain NUL (\\u0000)');
