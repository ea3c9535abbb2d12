// Every failure is classified once, here; the class decides what the runtime does:
// transient -> retry with backoff, poison -> this record goes to the dead-letter topic,
// fatal -> the process exits and its supervisor restarts it.
export type ErrorKind = 'transient' | 'poison' | 'fatal';

/** Stable codes, documented so operators can search for them. */
export const codes = {
  notAvro: 'NOVA_D1001', // not Confluent wire format (magic byte 0 + 4-byte schema id)
  unknownSchema: 'NOVA_D1002', // the registry has no schema with that id
  undecodable: 'NOVA_D1003', // bytes do not decode with their writer schema
  incompatibleSchema: 'NOVA_D1004', // writer schema cannot be resolved to our reader schema
  noReaderSchema: 'NOVA_D1005', // a topic we have no reader schema for
  registryUnavailable: 'NOVA_D1006', // the registry did not answer (retried)
  unmappable: 'NOVA_M1001', // the mapping threw for this change
  storeUnavailable: 'NOVA_S1001', // the store did not answer or refused the connection (retried)
  storeRejected: 'NOVA_S1002', // the store refused this record (dead-lettered)
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

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
const networkMessages = /connection is closed|socket closed|timed? ?out|connect ECONNREFUSED|stream isn't writeable|no connection/i;

/** A store client's failure, classified: the network and timeouts are transient, the rest is fatal. */
export function storeError(error: unknown, store: string): NovaError {
  if (error instanceof NovaError) return error;
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const transient = networkCodes.has(e?.code ?? '') || networkCodes.has(e?.cause?.code ?? '') || networkMessages.test(e?.message ?? '');
  return new NovaError(transient ? 'transient' : 'fatal', codes.storeUnavailable, `${store}: ${e?.message ?? String(error)}`, { cause: error });
}
