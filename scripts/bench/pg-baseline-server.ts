// Child process of `scripts/nova bench api`: answers GET /notifications,
// /notifications/unread-count and /suggestions from PostgreSQL (pg-baseline.ts's queries), in
// the API's JSON, on 127.0.0.1 at a free port it reports over IPC. A token is checked as
// api/http/auth.ts checks it (jose: HS256, issuer, audience, exp required; the subject a row
// id); the pool is api/db.ts's openPool. None of the API's other middleware runs (OpenAPI
// validation, request ids, metrics, body limit): this is the lighter HTTP path of the two.
//   node --import tsx scripts/bench/pg-baseline-server.ts
import http from 'node:http';
import { jwtVerify } from 'jose';
import { openPool } from '../../api/db.ts';
import { asItem } from '../../api/domains/notifications/reads.ts';
import { encodeCursor } from '../../api/http/cursor.ts';
import { isRowId } from '../../api/http/ids.ts';
import { novaConfig } from '../../config/nova-config.ts';
import { baselineSql, type BaselineMessage } from './pg-baseline.ts';

const send = (message: BaselineMessage) => process.send?.(message);

async function main(): Promise<void> {
  const config = novaConfig();
  const jwt = config.jwt();
  if (jwt.kind !== 'secret') throw new Error('the bench mints its tokens with NOVA_JWT_SECRET; NOVA_JWT_JWKS_URL is set');
  const pool = openPool(config.databaseUrl());

  const callerOf = async (header: string | undefined): Promise<string | undefined> => {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(header ?? '')?.[1];
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, jwt.secret, { issuer: jwt.issuer, audience: jwt.audience, algorithms: ['HS256'], requiredClaims: ['exp'] });
      return typeof payload.sub === 'string' && isRowId(payload.sub) ? payload.sub : undefined;
    } catch {
      return undefined;
    }
  };

  const routes: Record<string, (userId: string) => Promise<object>> = {
    '/notifications': async (userId) => {
      const items = (await pool.query(baselineSql.recent, [userId])).rows.map(asItem);
      const last = items.at(-1);
      return { items, next_cursor: items.length === 20 && last ? encodeCursor({ before: last.id }) : null };
    },
    '/notifications/unread-count': async (userId) => ({ unread: Number((await pool.query(baselineSql.unread, [userId])).rows[0]?.unread ?? 0) }),
    '/suggestions': async (userId) => ({ items: (await pool.query(baselineSql.suggestions, [userId, 20])).rows.map((r) => ({ id: r.id as string, username: (r.username as string | null) ?? null })) }),
  };

  const answer = (response: http.ServerResponse, status: number, body: object) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const server = http.createServer((request, response) => {
    const route = request.method === 'GET' ? routes[(request.url ?? '').split('?')[0] as string] : undefined;
    if (!route) return answer(response, 404, { status: 404, detail: `${request.method} ${request.url} does not exist` });
    callerOf(request.headers.authorization)
      .then((userId) => (userId === undefined ? answer(response, 401, { status: 401, detail: 'the token was refused' }) : route(userId).then((body) => answer(response, 200, body))))
      .catch((error: Error) => answer(response, 500, { status: 500, detail: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => server.close(() => void pool.end().finally(() => process.exit(0)));
  process.once('SIGTERM', stop);
  process.once('disconnect', stop);
  send({ type: 'ready', port: (server.address() as { port: number }).port });
}

main().catch((error: Error) => {
  send({ type: 'failed', error: error.message });
  process.exit(1);
});
