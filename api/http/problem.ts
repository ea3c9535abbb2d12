// Every error the API answers is an RFC 9457 problem (application/problem+json): a type
// naming the kind, the status, a title, a detail for people, and for bad input the fields.
import type { Context } from 'hono';

export type FieldError = { field: string; message: string };

export class Problem extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503,
    readonly type: string,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; retryAfterSeconds?: number; [key: string]: unknown } = {},
  ) {
    super(detail ?? title);
  }
}

export const problems = {
  invalid: (errors: FieldError[]) => new Problem(400, 'invalid-request', 'The request is invalid', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors }),
  unauthorized: (detail: string) => new Problem(401, 'unauthorized', 'A valid bearer token is required', detail),
  /** also for what exists but is not the caller's: its existence is not the caller's business either */
  notFound: (what: string) => new Problem(404, 'not-found', 'Not found', `${what} does not exist`),
  conflict: (detail: string) => new Problem(409, 'conflict', 'Conflict', detail),
  idempotencyKeyReused: () => new Problem(422, 'idempotency-key-reused', 'This Idempotency-Key was used for another request', 'send a new key for a new request'),
  rateLimited: (retryAfterSeconds: number) => new Problem(429, 'rate-limited', 'Too many writes', `retry after ${retryAfterSeconds} s`, { retryAfterSeconds }),
  viewUnavailable: (view: string, detail: string) => new Problem(503, 'view-unavailable', `The ${view} view is unavailable`, detail, { view, retryAfterSeconds: 5 }),
  viewLagging: (views: string[], waitedMs: number) =>
    new Problem(503, 'view-lagging', 'The views have not applied the write yet', `${views.join(', ')} did not reach the consistency token within ${waitedMs} ms`, { views, retryAfterSeconds: 1 }),
};

export function problemResponse(c: Context, problem: Problem): Response {
  const { retryAfterSeconds, ...extra } = problem.extra;
  const body = { type: `https://nova.dev/problems/${problem.type}`, title: problem.title, status: problem.status, detail: problem.detail, instance: c.req.path, ...extra };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}
