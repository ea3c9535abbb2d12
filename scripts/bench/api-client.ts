// The API bench's own HTTP calls (setup, probes, the read-your-writes pairs): JSON over
// node:http with keep-alive, so a call costs one request on an open connection, not a
// connection. The read measurements themselves go through autocannon (api-load.ts).
import http from 'node:http';

export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: any };

export type CallOptions = { token?: string; body?: unknown; headers?: Record<string, string> };

export type ApiClient = {
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  close(): void;
};

export function apiClient(baseUrl: string, { maxSockets = 256, timeoutMs = 30_000 } = {}): ApiClient {
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    call(method, path, { token, body, headers = {} } = {}) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const sent: Record<string, string> = { ...headers };
      if (token !== undefined) sent.authorization = `Bearer ${token}`;
      if (payload !== undefined) (sent['content-type'] = 'application/json'), (sent['content-length'] = String(Buffer.byteLength(payload)));
      return new Promise<Reply>((resolve, reject) => {
        const request = http.request({ agent, host: base.hostname, port: base.port, method, path, headers: sent, timeout: timeoutMs }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {}
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
          });
        });
        request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
        request.on('error', reject);
        request.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Runs `work` on every item, `lanes` at a time; the first failure rejects after the lanes stop. */
export async function inLanes<T>(items: readonly T[], lanes: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  if (failure !== undefined) throw failure;
}

/** The route itself is missing (the app's notFound answer names the method and path), not a resource it looked for. */
export const routeMissing = (reply: Reply, method: string, path: string) =>
  reply.status === 404 && typeof reply.body === 'object' && reply.body !== null && reply.body.detail === `${method} ${path.split('?')[0]} does not exist`;

export const describeReply = (reply: Reply) => `${reply.status} ${typeof reply.body === 'string' ? reply.body.slice(0, 200) : JSON.stringify(reply.body).slice(0, 200)}`;
