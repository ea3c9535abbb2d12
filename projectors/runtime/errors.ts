// Every failure is classified once, by its code (never by its message), and the class decides
// what the runtime does:
//   transient  the store or Kafka is unreachable or overloaded: retried with backoff for as long
//              as it takes (the batch is never dropped; /readyz turns unready while it lasts)
//   bounded    a failure that may be the batch's own (a timeout, a memory limit): retried a few
//              times, then the sink call is split in halves down to one record; one record
//              that still fails stalls its partition
//   poison     this record cannot be applied (bytes, mapping, the store refused the value): it
//              goes to the dead-letter topic and the rest flows on
//   stall      a fault outside the record (the registry, a reader schema, a writer schema that
//              does not resolve, a gap in the topic): the partition stops where it is, loudly
//              (unready, a metric, an error log), and is retried slowly until the fault is fixed
//   fatal      anything unknown: the process exits and its supervisor restarts it
export type ErrorKind = 'transient' | 'bounded' | 'poison' | 'stall' | 'fatal';

/** Stable codes, documented so operators can search for them. */
export const codes = {
  notAvro: 'NOVA_D1001', // not Confluent wire format (magic byte 0 + 4-byte schema id)
  unknownSchema: 'NOVA_D1002', // the registry has no schema with that id (a wrong registry URL, or a registry restored from an older backup)
  undecodable: 'NOVA_D1003', // bytes do not decode with their writer schema
  incompatibleSchema: 'NOVA_D1004', // writer schema cannot be resolved to our reader schema (an upstream ALTER TABLE)
  noReaderSchema: 'NOVA_D1005', // a topic we have no reader schema for
  registryUnavailable: 'NOVA_D1006', // the registry did not answer (retried)
  registryRefused: 'NOVA_D1007', // the registry refused the request (401, 403, 4xx): its URL or credentials are wrong
  badEpoch: 'NOVA_D1008', // a source-epoch header that is not an epoch
  unmappable: 'NOVA_M1001', // the mapping threw for this change
  storeUnavailable: 'NOVA_S1001', // the store did not answer or refused the connection (retried)
  storeRejected: 'NOVA_S1002', // the store refused this record (dead-lettered)
  storeTimeout: 'NOVA_S1003', // the store gave up on the request (timeout, memory): maybe the batch's own fault
  storeFailed: 'NOVA_S1004', // a store failure Nova does not know: the process exits and its supervisor restarts it
  storeFull: 'NOVA_S1005', // the store is out of room (Redis at maxmemory with noeviction): the partition stalls until it has some
  fenced: 'NOVA_S1006', // another instance claimed the partition since this one did (an owner epoch): it stalls until its revocation arrives
  retentionGap: 'NOVA_C1001', // the store's checkpoint is before the partition's first retained record
  beyondEnd: 'NOVA_C1002', // the store's checkpoint is after the partition's end (the topic was recreated)
  streamGap: 'NOVA_C1003', // records of a stream that began after a gap (a lost replication slot) meet a generation filled before it
  deadLetterRate: 'NOVA_R1001', // most recent records went to the dead-letter topic: the fault is likely not in them
  deadLetterUnavailable: 'NOVA_R1002', // a letter could not be written to the dead-letter topic (retried if Kafka says so, else the partition stalls)
} as const;

export type ErrorCode = (typeof codes)[keyof typeof codes];

export class NovaError extends Error {
  readonly kind: ErrorKind;
  readonly code: ErrorCode;
  /** the message without its code */
  readonly detail: string;
  constructor(kind: ErrorKind, code: ErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code}: ${detail}`, options);
    this.name = 'NovaError';
    this.kind = kind;
    this.code = code;
    this.detail = detail;
  }
}

/** Where a record sits in Kafka; treated as opaque everywhere but checkpoints and errors. */
export type Position = { topic: string; partition: number; offset: string };

export const describePosition = (p: Position) => `${p.topic}[${p.partition}]@${p.offset}`;

/** A record that cannot be decoded: it names exactly where it sits in Kafka. */
export class DecodeError extends NovaError {
  readonly position: Position;
  constructor(kind: ErrorKind, code: ErrorCode, position: Position, reason: string, options?: { cause?: unknown }) {
    super(kind, code, `${describePosition(position)}: ${reason}`, options);
    this.name = 'DecodeError';
    this.position = position;
  }
}

/** Node's own codes for a connection that failed or dropped (on the error or its cause). */
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

export const isNetworkError = (error: unknown): boolean => {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return networkCodes.has(String(e?.code ?? '')) || networkCodes.has(String(e?.cause?.code ?? ''));
};

/**
 * A store client's failure as a NovaError. `kindOf` is the store's own reading of its codes
 * (undefined: not one it knows); Node's network codes are transient; anything else is fatal.
 */
export function storeError(error: unknown, store: string, kindOf: (error: unknown) => ErrorKind | undefined = () => undefined): NovaError {
  if (error instanceof NovaError) return error;
  const kind = kindOf(error) ?? (isNetworkError(error) ? 'transient' : 'fatal');
  const code = { transient: codes.storeUnavailable, bounded: codes.storeTimeout, poison: codes.storeRejected, stall: codes.storeFull, fatal: codes.storeFailed }[kind];
  return new NovaError(kind, code, `${store}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
