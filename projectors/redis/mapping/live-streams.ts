// live_streams -> stream:live (a sorted set of the streams live now, newest start first; one
// key, one slot) and stream:meta:{stream_id} (the stream's metadata as JSON, on the stream's slot).
import type { Change } from '../../runtime/decode/index.ts';
import type { RedisOp } from '../commands.ts';
import { tagOf, viewKeys } from '../reader-keys.ts';
import { op, sides, stableJson, truncate } from './row.ts';

export const LIVE_NOW = viewKeys.liveNow;
const liveTag = tagOf(LIVE_NOW);
export const streamMetaFields = ['id', 'user_id', 'title', 'description', 'thumbnail_url', 'hls_url', 'status', 'viewer_count', 'peak_viewer_count', 'started_at', 'ended_at', 'created_at'];

export function mapLiveStream(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, [LIVE_NOW, 'stream:meta:']);
  const { now } = sides(change);
  const id = Object.values(change.key ?? {}).join(':');
  const meta = viewKeys.streamMeta(id);
  if (!now) return [op(change, id, false, [{ cmd: 'DEL', key: meta }]), op(change, liveTag, false, [{ cmd: 'ZREM', key: LIVE_NOW, member: id }])];
  const live = now.status === 'live';
  const started = now.started_at instanceof Date ? now.started_at.getTime() : 0;
  return [
    op(change, id, true, [{ cmd: 'SET', key: meta, value: stableJson(now, streamMetaFields) }]),
    op(change, liveTag, live, [live ? { cmd: 'ZADD', key: LIVE_NOW, score: started, member: id } : { cmd: 'ZREM', key: LIVE_NOW, member: id }]),
  ];
}
