// Row ids are PostgreSQL BIGINTs: carried as decimal strings in JSON and paths (a JSON number
// loses precision past 2^53), and checked to fit before any query sees them.
import { z } from '@hono/zod-openapi';

const maxBigint = 9_223_372_036_854_775_807n;

export const isRowId = (value: string) => /^[1-9][0-9]{0,18}$/.test(value) && BigInt(value) <= maxBigint;

export const rowId = z
  .string()
  .refine(isRowId, { message: 'an id is a positive 64-bit integer in decimal' })
  .openapi({ example: '42', description: 'a positive 64-bit integer, as a decimal string' });
