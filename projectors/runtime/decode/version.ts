// What every store compares before it writes, and why each rule is exact. Two numbers per
// change, both 64-bit (bigint here; each store keeps them as a 64-bit integer or a fixed-width
// string):
//
// version: guards one row. A streamed change's version is its own WAL position (source.lsn).
//   For one row that order is commit order: an UPDATE or DELETE takes the row lock before it
//   writes its WAL record and holds it until commit, so a later writer's record comes after the
//   earlier one committed; INSERT ... ON CONFLICT checks for the conflicting row before it
//   inserts. One case escapes: a plain INSERT writes its heap record before its unique-index
//   check, so an INSERT of a key whose old row a concurrent, uncommitted transaction is deleting
//   can carry a lower LSN than that delete although it commits after it. Nova's keys never come
//   back that way (serial ids; settings, read marks and embeddings are upserted); a view keyed
//   by something other than the primary key (Neo4j's follow pairs, where unfollow and follow
//   race) compares (commitOrder, version) instead, which is exact. A snapshot read's version is 0, the lowest there is: it
//   fills a row the store lacks and never overwrites one. That is exact because a row's read
//   always precedes the streamed changes that are newer than it: an initial snapshot is read
//   from the slot's exported snapshot and every transaction committed after that point is
//   streamed after the snapshot, whatever LSN its changes carry (a transaction that began
//   before the point writes below it: issue 8's "t2-final"); an incremental snapshot read is
//   emitted at its chunk's closing watermark, after every change of that row committed before
//   the chunk was selected, and Debezium drops the read if the row changes inside the window.
//   So a stored version is never "a read newer than a change": any change a store still
//   receives for the row is at least as new as what it holds.
//
// commitOrder: where a change stands among all transactions, across rows, tables and
//   partitions: Debezium's source.sequence[0], the end of the last transaction committed
//   before this one (strictly increasing from one transaction to the next, equal within one).
//   An incremental read carries the same for the moment it was read; an initial snapshot read
//   carries 0, before everything streamed. A TRUNCATE removes exactly the rows before it in
//   commit order, and commit order is (commitOrder, version) compared in that order:
//   isBeforeTruncate below. (For streamed rows of the truncated table this agrees with
//   comparing versions alone, since TRUNCATE waits for, and blocks, every writer of the table;
//   a snapshot read needs commitOrder.)
//
// The source epoch (a Kafka header the connector stamps on every record) is the top bits of
// both: when PostgreSQL's positions restart lower (a restore, or a major upgrade by logical
// replication), an operator bumps it (`scripts/nova connector epoch --bump`) and every later
// change outranks everything of the old epoch. A record without the header is epoch 0.
import { NovaError, codes } from '../errors.ts';

/** The Kafka header that carries the source epoch, set by the connector's InsertHeader transform. */
export const sourceEpochHeader = 'nova-source-epoch';

/**
 * The Kafka header that names the first epoch of the current unbroken stream: an epoch bumped
 * after a lost replication slot starts a new one (a gap), one bumped at a drained cutover
 * continues the old one.
 */
export const streamSinceHeader = 'nova-stream-since';

const epochShift = 56n;
const positionMask = (1n << epochShift) - 1n;
/** 7 bits, so that epoch << 56 stays below 2^63 (a signed 64-bit integer in every store) */
export const maxEpoch = 127;

/** The version of a snapshot read: below every streamed change. */
export const snapshotReadVersion = 0n;

type Headers = Record<string, Buffer | string | undefined> | undefined;

function headerNumber(headers: Headers, name: string): number {
  const raw = headers?.[name];
  if (raw === undefined) return 0;
  const text = raw.toString();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > maxEpoch) {
    throw new NovaError('stall', codes.badEpoch, `header ${name} is '${text}': an epoch is an integer 0..${maxEpoch}`);
  }
  return value;
}

/** The record's source epoch, and the first epoch of its unbroken stream (0 without the headers: unbroken from the start). */
export function sourceEpochOf(headers: Headers): { epoch: number; streamSince: number } {
  const epoch = headerNumber(headers, sourceEpochHeader);
  return { epoch, streamSince: Math.min(headerNumber(headers, streamSinceHeader), epoch) };
}

/** A position (an LSN) of one epoch as a version or commit order. */
export function withEpoch(epoch: number, position: bigint): bigint {
  if (position < 0n || position > positionMask) throw new NovaError('fatal', codes.badEpoch, `position ${position} does not fit 56 bits`);
  return (BigInt(epoch) << epochShift) | position;
}

/** The epoch a version or commit order belongs to. */
export const epochOf = (value: bigint): number => Number(value >> epochShift);

/** For people: `e1:0/1EA3F08` (the epoch and PostgreSQL's LSN notation). */
export function describeVersion(value: bigint): string {
  const position = value & positionMask;
  return `e${epochOf(value)}:${(position >> 32n).toString(16).toUpperCase()}/${(position & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Fixed-width text that sorts as the number does (for stores that compare strings: Redis' Lua). */
export const versionText = (value: bigint): string => value.toString(16).padStart(16, '0');

export type Ordered = { version: bigint; commitOrder: bigint };

/** Was `row` written before `truncate` in commit order, so that the truncate removed it? */
export function isBeforeTruncate(row: Ordered, truncate: Ordered): boolean {
  return row.commitOrder < truncate.commitOrder || (row.commitOrder === truncate.commitOrder && row.version < truncate.version);
}
