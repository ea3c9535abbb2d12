// Live streams in PostgreSQL: created 'preparing' with a publishing URL holding a fresh stream
// key, then 'live' (started_at) and 'ended' (ended_at), only by the streamer and only forward.
import { randomBytes } from 'node:crypto';
import type { Tx } from '../../db.ts';
import { problems } from '../../http/problem.ts';
import { isoOrNull } from '../../http/columns.ts';


export type StreamUrls = { rtmpBaseUrl: string; hlsBaseUrl: string };

/** A stream as anyone sees it, from a PostgreSQL row or the view's stream:meta JSON alike. */
export const asStream = (row: Record<string, unknown>) => ({
  id: String(row.id), user_id: String(row.user_id), title: String(row.title), description: (row.description as string | null) ?? null,
  thumbnail_url: (row.thumbnail_url as string | null) ?? null, hls_url: (row.hls_url as string | null) ?? null,
  status: row.status as 'preparing' | 'live' | 'ended', viewer_count: Number(row.viewer_count ?? 0), peak_viewer_count: Number(row.peak_viewer_count ?? 0),
  started_at: isoOrNull(row.started_at), ended_at: isoOrNull(row.ended_at), created_at: isoOrNull(row.created_at),
});
const columns = 'id, user_id, title, description, thumbnail_url, rtmp_url, hls_url, status, viewer_count, peak_viewer_count, started_at, ended_at, created_at';

export async function createStream(tx: Tx, userId: string, urls: StreamUrls, s: { title: string; description?: string; thumbnail_url?: string }) {
  const key = randomBytes(18).toString('base64url');
  const { rows } = await tx.query(
    `WITH next AS (SELECT nextval(pg_get_serial_sequence('live_streams', 'id')) AS id)
     INSERT INTO live_streams (id, user_id, title, description, thumbnail_url, rtmp_url, hls_url)
     SELECT next.id, $1, $2, $3, $4, $5 || '/' || $6::text, $7 || '/' || next.id || '.m3u8' FROM next
     RETURNING ${columns}`,
    [userId, s.title, s.description ?? null, s.thumbnail_url ?? null, urls.rtmpBaseUrl, key, urls.hlsBaseUrl],
  );
  return { ...asStream(rows[0]), rtmp_url: String(rows[0].rtmp_url) };
}

const moves = { start: { from: ['preparing'], to: 'live', stamp: 'started_at' }, end: { from: ['preparing', 'live'], to: 'ended', stamp: 'ended_at' } } as const;

/** Starts or ends the caller's stream; 404 for a stream not theirs, 409 for a move its status does not allow. */
export async function moveStream(tx: Tx, userId: string, streamId: string, move: keyof typeof moves) {
  const { from, to, stamp } = moves[move];
  const { rows } = await tx.query(
    `UPDATE live_streams SET status = $3, ${stamp} = now() WHERE id = $1 AND user_id = $2 AND status = ANY ($4::text[]) RETURNING ${columns}`,
    [streamId, userId, to, from],
  );
  if (rows[0]) return asStream(rows[0]);
  const { rows: found } = await tx.query('SELECT status FROM live_streams WHERE id = $1 AND user_id = $2', [streamId, userId]);
  if (!found[0]) throw problems.notFound(`live stream ${streamId}`);
  throw problems.conflict(`the stream is ${found[0].status}: it cannot ${move}`);
}
