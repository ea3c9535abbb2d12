// How this projector talks to Milvus: the client is made by connectMilvus, and every request
// goes through `call`. The SDK answers most failures with a status in the response rather than
// an exception, so success is checked here and every failure is classified once, by its code
// (style.md section 8). The records Milvus would refuse are found before sending (plan.ts), so
// a refusal here is not one record's fault: it is never poison.
import { LoadState, MilvusClient, type ResStatus } from '@zilliz/milvus2-sdk-node';
import { storeError, type ErrorKind, type NovaError } from '../runtime/errors.ts';

/**
 * gRPC codes of the SDK's exceptions: DEADLINE_EXCEEDED may be a request too big to finish in
 * time (bounded: retried, then split); RESOURCE_EXHAUSTED and UNAVAILABLE clear up on their own.
 */
const grpcKinds = new Map<number, ErrorKind>([
  [4, 'bounded'],
  [8, 'transient'],
  [14, 'transient'],
]);

/** Milvus's "collection not loaded": milvus-lite starts every collection released after a restart. */
const notLoaded = 101;

/** Milvus's status codes (its pkg/util/merr) that are not a fault of the request. */
const statusKinds = new Map<number, ErrorKind>([
  [1, 'transient'], // service not ready
  [2, 'transient'], // service unavailable
  [3, 'bounded'], // memory limit exceeded: maybe the batch's size
  [4, 'transient'], // request limit exceeded
  [8, 'transient'], // rate limit exceeded
  [notLoaded, 'transient'], // `call` loads it for the retry
  [1807, 'transient'], // rate limit exceeded (its HTTP front)
  [10001, 'bounded'], // the server's own deadline passed
]);

const isStatus = (value: unknown): value is ResStatus => typeof value === 'object' && value !== null && 'error_code' in value && 'reason' in value;

const statusOf = (response: unknown): ResStatus | undefined => {
  if (isStatus(response)) return response;
  const nested = (response as { status?: unknown } | null)?.status;
  return isStatus(nested) ? nested : undefined;
};

/** The status code of a response: 0 on success. */
export function statusCode(response: unknown): number {
  const status = statusOf(response);
  if (!status || status.error_code === 'Success' || status.error_code === 0 || status.code === 0) return 0;
  return status.code ?? -1;
}

/** A failure status, as an error that keeps it. */
class StatusError extends Error {
  readonly status: ResStatus;
  constructor(status: ResStatus) {
    super(`${status.reason || status.error_code} (code ${status.code ?? status.error_code})`);
    this.status = status;
  }
}

/** The kind of a Milvus failure, by its status code or gRPC code; undefined for anything else. */
function milvusKind(error: unknown): ErrorKind | undefined {
  if (error instanceof StatusError) return statusKinds.get(error.status.code ?? -1);
  const grpcCode = (error as { code?: unknown } | null)?.code;
  return typeof grpcCode === 'number' ? grpcKinds.get(grpcCode) : undefined;
}

/** An exception from the SDK (gRPC, or a status it threw), or a failure status, classified. */
export const milvusError = (error: unknown, what: string): NovaError => storeError(isStatus(error) ? new StatusError(error) : error, `milvus: ${what}`, milvusKind);

export type CallOptions = {
  /** the collection the request reads or writes: loaded again when Milvus finds it released */
  collection?: string;
  /** status codes that answer the question rather than fail it ("no such alias") */
  accept?: number[];
};

/** Runs one request and returns its response once its status says success (or an accepted answer). */
export async function call<T>(client: MilvusClient, what: string, request: () => Promise<T>, options: CallOptions = {}): Promise<T> {
  let response: T;
  try {
    response = await request();
  } catch (error) {
    throw milvusError(error, what);
  }
  const code = statusCode(response);
  if (code === 0 || options.accept?.includes(code)) return response;
  // loaded before the (transient) error goes up, so the retry finds it loaded; should the load
  // fail, the retry meets the same status and loads again
  if (code === notLoaded && options.collection) await client.loadCollection({ collection_name: options.collection }).catch(() => {});
  throw milvusError(statusOf(response), what);
}

/**
 * A client that has connected. The SDK connects from its constructor and leaves that promise
 * unhandled, which would kill the process: it is awaited here, where a failure is classified.
 * Retries are the runtime's (with-retry.ts), not the SDK's; its telemetry heartbeat is off
 * because milvus-lite does not implement it.
 */
export async function connectMilvus(address: string): Promise<MilvusClient> {
  const client = new MilvusClient({ address, telemetry: { enabled: false }, maxRetries: 0, timeout: 60_000, logLevel: 'error' });
  try {
    await client.connectPromise;
    return client;
  } catch (error) {
    await client.closeConnection().catch(() => {}); // the connect failure is the error to report
    throw milvusError(error, `connect to ${address}`);
  }
}

/**
 * Loads a collection unless it is loaded already (milvus-lite starts every collection released,
 * and a load request waits in 400 ms steps even when there is nothing to load). False when
 * there is no such collection.
 */
export async function loadCollection(client: MilvusClient, name: string): Promise<boolean> {
  const { state } = await call(client, `look up ${name}`, () => client.getLoadState({ collection_name: name }));
  if (state === LoadState.LoadStateNotExist) return false;
  if (state !== LoadState.LoadStateLoaded) await call(client, `load ${name}`, () => client.loadCollection({ collection_name: name }));
  return true;
}

/** A string literal for a Milvus filter expression. */
export const quote = (value: string) => JSON.stringify(value);

const int64Range = { min: -(1n << 63n), max: (1n << 63n) - 1n };

/**
 * A 64-bit integer as the SDK takes it, in a row or a filter: decimal text (a JS number loses
 * precision past 2^53, and a bigint in a request crashes the SDK's request logging).
 */
export function int64(value: bigint): string {
  if (typeof value !== 'bigint' || value < int64Range.min || value > int64Range.max) throw new Error(`milvus: ${String(value)} is not a 64-bit integer`);
  return value.toString();
}

/** A 64-bit integer as the SDK returns it (decimal text: its gRPC loader reads longs as strings). */
export function int64Of(value: unknown): bigint {
  const text = String(value);
  if (!/^-?\d{1,19}$/.test(text)) throw new Error(`milvus: ${JSON.stringify(text)} is not a 64-bit integer`);
  return BigInt(text);
}
