// Changes as the decoder would produce them, for sink and mapping tests of any store.
import type { Change } from '../decode/index.ts';

/** An update of follows row `id` (follower 1, followee 1 + id) to `status`, at `version` (committed in that order). */
export const followChange = (version: bigint, id: number, status: string, createdAt = new Date(0)): Change => ({
  kind: 'change',
  op: 'update',
  table: 'public.follows',
  key: { id },
  before: null,
  after: { id, follower_id: 1, followee_id: 1 + id, status, created_at: createdAt },
  version,
  commitOrder: version,
  streamSince: 0,
  txId: Number(version),
  commitTs: new Date(0),
  position: { topic: 'nova.social.follows', partition: 0, offset: String(version) },
});
