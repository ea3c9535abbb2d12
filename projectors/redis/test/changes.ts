// Changes the Redis sink tests apply.
import type { Change } from '../../runtime/decode/index.ts';

// A live stream: both variants are live, so each shows in stream:live (its start as the score)
// and in stream:meta:{id}, and they differ in both. The mapping reads only `after`, so a change
// replaces what an earlier one left, whichever variant that was.
export const liveStreamChange = (id: number, variant: 'a' | 'b'): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.live_streams',
  key: { id },
  before: null,
  after: {
    id,
    user_id: 7,
    title: `stream ${id}, variant ${variant}`,
    description: null,
    thumbnail_url: null,
    hls_url: null,
    status: 'live',
    viewer_count: variant === 'a' ? 1 : 2,
    peak_viewer_count: 2,
    started_at: new Date(variant === 'a' ? '2026-01-01T00:00:00Z' : '2026-01-02T00:00:00Z'),
    ended_at: null,
    created_at: new Date('2025-12-31T00:00:00Z'),
  },
  version: 0n,
  commitOrder: 0n,
  streamSince: 0,
  txId: null,
  commitTs: new Date(0),
  position: { topic: 'nova.live.live_streams', partition: 0, offset: '0' },
});
