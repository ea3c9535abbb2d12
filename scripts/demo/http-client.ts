// The demo's only way into Nova: HTTP to the API, never PostgreSQL. One call shape for every
// route; a route the API does not have yet (its own 404, "METHOD /path does not exist") is
// told apart from a 404 about a row, so the demo can skip that part and go on.

export type Reply<B = any> = { status: number; headers: Headers; body: B };

export type Request = {
  /** bearer token the request acts with */
  as: string;
  body?: unknown;
  /** a create's Idempotency-Key: a retry, or a re-run with the same --run, writes nothing twice */
  idempotencyKey?: string;
  /** a write's Nova-Consistency-Token: the read waits (up to 10 s) until the views applied it */
  readAfter?: string;
  /** statuses that are an answer rather than an error (default: 200 and 201) */
  accept?: readonly number[];
};

/** The port the demo's steps use: one member, so tests can pass a fake. */
export type Api = { call<B = any>(method: string, path: string, request: Request): Promise<Reply<B>> };

export const maxWaitMs = 10_000;

/** The API answered with its own not-found: the route is not there (yet). */
export class RouteUnavailable extends Error {
  override name = 'RouteUnavailable';
  constructor(readonly route: string) {
    super(`route not available: ${route}`);
  }
}

/** Any other answer outside `accept`: carries the request and the problem body as they were. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly route: string, readonly reply: Reply, readonly sent?: unknown) {
    const body = reply.body as { title?: string; detail?: string } | string;
    super(`${route} answered ${reply.status}: ${typeof body === 'string' ? body.slice(0, 300) : `${body.title ?? ''}${body.detail ? ` (${body.detail})` : ''}`}`);
  }
}

const isRouteMissing = (method: string, path: string, reply: Reply) =>
  reply.status === 404 && typeof reply.body === 'object' && reply.body !== null && reply.body.detail === `${method} ${path.split('?')[0]} does not exist`;

export function httpApi({ baseUrl, timeoutMs = 30_000 }: { baseUrl: string; timeoutMs?: number }): Api & { requests(): { sent: number; replayed: number } } {
  let count = 0;
  let replayed = 0;
  return {
    /** requests sent, and writes the API answered from an Idempotency-Key it already held */
    requests: () => ({ sent: count, replayed }),
    async call(method, path, request) {
      const { as, body, idempotencyKey, readAfter, accept = [200, 201] } = request;
      const headers: Record<string, string> = { authorization: `Bearer ${as}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      if (readAfter !== undefined) Object.assign(headers, { 'nova-read-after': readAfter, 'nova-max-wait-ms': String(maxWaitMs) });
      count += 1;
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      const reply: Reply = { status: response.status, headers: response.headers, body: parsed };
      if (response.headers.get('idempotent-replayed') === 'true') replayed += 1;
      const route = `${method} ${path}`;
      if (isRouteMissing(method, path, reply)) throw new RouteUnavailable(route);
      if (!accept.includes(reply.status)) throw new ApiError(route, reply, body);
      return reply;
    },
  };
}

/** The Nova-Consistency-Token a write answered with (every write sends one). */
export function consistencyToken(reply: Reply): string {
  const token = reply.headers.get('nova-consistency-token');
  if (token === null) throw new Error(`a write answered ${reply.status} without a Nova-Consistency-Token`);
  return token;
}
