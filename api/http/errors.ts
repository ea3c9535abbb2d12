// Whatever a route throws becomes a problem response: Problems as they are, what Hono refuses
// (malformed JSON, a body too large) with its status, PostgreSQL's refusals of bad input as
// 4xx naming the constraint. Anything else is a bug: logged with the request id, answered 500.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { Problem, problemResponse, problems } from './problem.ts';

type PgError = Error & { code?: string; constraint?: string; column?: string };

function fromPostgres(error: PgError): Problem | undefined {
  switch (error.code) {
    case '23505':
      return problems.conflict(`already exists (${error.constraint ?? 'a unique key'})`);
    case '23503':
      return problems.notFound('what it refers to');
    case '23514':
    case '22001':
      return problems.invalid([{ field: error.constraint ?? error.column ?? 'body', message: 'too large or out of bounds' }]);
    case '22P02':
    case '22003':
    case '22021': // a NUL or invalid byte in text
    case '22P05': // a \u0000 in JSON
      return problems.invalid([{ field: 'body', message: 'a value is out of range for its type' }]);
    default:
      return undefined;
  }
}

export function onError(log: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof Problem) return problemResponse(c, error);
    if (error instanceof HTTPException) {
      const status = error.status === 413 ? 413 : error.status === 415 ? 415 : 400;
      const detail = error.message || 'the request could not be read';
      return problemResponse(c, status === 400 ? problems.invalid([{ field: 'body', message: detail }]) : new Problem(status, status === 413 ? 'body-too-large' : 'unsupported-media-type', detail));
    }
    const known = fromPostgres(error as PgError);
    if (known) return problemResponse(c, known);
    log.error({ err: error, requestId: c.get('requestId'), path: c.req.path }, 'unexpected error');
    return problemResponse(c, new Problem(500, 'internal', 'Internal error', `request ${c.get('requestId') as string}`));
  };
}
