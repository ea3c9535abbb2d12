import { z } from '@hono/zod-openapi';
import { rowId } from '../../http/ids.ts';
import { text } from '../../http/text.ts';

export const newStream = z
  .object({
    title: text(1, 255),
    description: text(0, 4_000).optional(),
    thumbnail_url: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  })
  .strict()
  .openapi('NewLiveStream');

/** A stream as anyone sees it: stream:meta:{id}, which never holds the publishing URL. */
export const stream = z
  .object({
    id: z.string(),
    user_id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    thumbnail_url: z.string().nullable(),
    hls_url: z.string().nullable(),
    status: z.enum(['preparing', 'live', 'ended']),
    viewer_count: z.number().int(),
    peak_viewer_count: z.number().int(),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    created_at: z.string().nullable(),
  })
  .openapi('LiveStream');

/** What only the streamer sees, once: where to publish (the stream key is in it). */
export const ownStream = stream.extend({ rtmp_url: z.string() }).openapi('OwnLiveStream');

export const streamPage = z.object({ items: z.array(stream), next_cursor: z.string().nullable() }).openapi('LiveStreamPage');
export const streamIdParam = z.object({ id: rowId });
