// live_streams -> stream:live (a sorted set of the streams live now, newest start first)
// and stream:meta:{stream_id} (the stream's metadata as JSON).
import type { Change } from '../../runtime/decode/index.ts';
import type { RedisOp } from '../commands.ts';
import { readerKeys } from '../reader-keys.ts';
import { op, sides, stableJson, truncate } from './row.ts';

export const LIVE_NOW = readerKeys.liveNow;
export const streamMetaFields = ['id', 'user_id', 'title', 'description', 'thumbnail_url', 'hls_url', 'status', 'viewer_count', 'peak_viewer_count', 'started_at', 'ended_at', 'created_at'];

export function mapLiveStream(change: Change): RedisOp[] {
  if (change.op === 'truncate') return truncate(change, [LIVE_NOW, 'stream:meta:*']);
  const { now } = sides(change);
  const id = Object.values(change.key ?? {}).join(':');
  if (!now) return [op(change, [{ cmd: 'ZREM', key: LIVE_NOW, member: id }, { cmd: 'DEL', key: readerKeys.streamMeta(id) }])];
  const started = now.started_at instanceof Date ? now.started_at.getTime() : 0;
  return [
    op(change, [
      now.status === 'live' ? { cmd: 'ZADD', key: LIVE_NOW, score: started, member: id } : { cmd: 'ZREM', key: LIVE_NOW, member: id },
      { cmd: 'SET', key: readerKeys.streamMeta(id), value: stableJson(now, streamMetaFields) },
    ]),
  ];
}
