// One notification and one live stream, as PostgreSQL holds them and as the decoder hands them to
// the mapping, and the values the view must hold for them, written out by hand. The mapping
// (mapping.test.ts) and the oracle's SQL (drift.test.ts) are each held to these strings, so
// neither can follow the other into a mistake. Negative ids: no sequence hands them out, so the
// rows cannot meet real ones (drift.test.ts inserts them in a transaction it rolls back).
import type { Row } from '../../runtime/decode/index.ts';

export const goldenUsers = [
  { id: -7, username: 'golden-reader' },
  { id: -9, username: 'golden-actor' },
];

/** As inserted: microseconds, which the view truncates to milliseconds; jsonb orders content's keys (shorter first). */
export const goldenNotificationRow = {
  id: -41,
  user_id: -7,
  type: 'like',
  actor_id: -9,
  target_type: 'post',
  target_id: 12,
  content: '{"post_id": 12, "text": "nice"}',
  is_read: false,
  created_at: '2024-03-05T06:07:08.123456Z',
  read_at: null,
};

/** What the decoder makes of it: JSON parsed (in jsonb's key order), timestamps as Dates (milliseconds). */
export const goldenNotificationAfter: Row = {
  ...goldenNotificationRow,
  content: { text: 'nice', post_id: 12 },
  created_at: new Date('2024-03-05T06:07:08.123Z'),
};

export const goldenNotificationItem =
  '{"id":-41,"type":"like","actor_id":-9,"target_type":"post","target_id":12,"content":{"text":"nice","post_id":12},"is_read":false,"created_at":"2024-03-05T06:07:08.123Z","read_at":null}';

export const goldenStreamRow = {
  id: -42,
  user_id: -7,
  title: 'Night shift',
  description: null,
  thumbnail_url: 'https://cdn.example/t.png',
  rtmp_url: 'rtmp://ingest.example/secret',
  hls_url: null,
  status: 'live',
  viewer_count: 3,
  peak_viewer_count: 5,
  started_at: '2024-03-05T06:00:00.999999Z',
  ended_at: null,
  created_at: '2024-03-05T05:59:00Z',
};

export const goldenStreamAfter: Row = {
  ...goldenStreamRow,
  started_at: new Date('2024-03-05T06:00:00.999Z'),
  created_at: new Date('2024-03-05T05:59:00Z'),
};

/** stream:meta:-42: every column but rtmp_url, the streamer's ingest address. */
export const goldenStreamMeta =
  '{"id":-42,"user_id":-7,"title":"Night shift","description":null,"thumbnail_url":"https://cdn.example/t.png","hls_url":null,"status":"live","viewer_count":3,"peak_viewer_count":5,"started_at":"2024-03-05T06:00:00.999Z","ended_at":null,"created_at":"2024-03-05T05:59:00.000Z"}';

/** its stream:live score: the start in epoch milliseconds */
export const goldenStreamStart = 1709618400999;
