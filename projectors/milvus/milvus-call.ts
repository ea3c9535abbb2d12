// How this projector talks to Milvus: the client is made by connectMilvus, and every request
// goes through `call`. The SDK answers most failures with a status in the response rather than
// an exception, so success is checked here and every failure is classified once (style.md
// section 8). The records Milvus would refuse are found before sending (plan.ts), so a refusal
// here is not one record's fault: it is transient or fatal.
import { LoadState, MilvusClient, type ResStatus } from '@zilliz/milvus2-sdk-node';
import { NovaError, codes, storeError } from '../runtime/errors.ts';

/** gRPC codes that clear up on their own: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, UNAVAILABLE. */
const transientGrpcCodes = new Set([1, 4, 8, 10, 14]);

/** Milvus's "collection is released": milvus-lite starts every collection released after a restart. */
const notLoaded = 101;

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

/** A failure status, classified: Milvus marks what is worth retrying, and a released collection is loaded again. */
function statusError(status: ResStatus, what: string): NovaError {
  const transient = status.retriable === true || status.code === notLoaded;
  return new NovaError(transient ? 'transient' : 'fatal', codes.storeUnavailable, `milvus: ${what}: ${status.reason || status.error_code} (code ${status.code ?? status.error_code})`);
}

/** An exception from the SDK (gRPC, or a status it threw), classified. */
export function milvusError(error: unknown, what: string): NovaError {
  if (error instanceof NovaError) return error;
  if (isStatus(error)) return statusError(error, what);
  const grpcCode = (error as { code?: unknown })?.code;
  if (typeof grpcCode === 'number' && transientGrpcCodes.has(grpcCode)) {
    return new NovaError('transient', codes.storeUnavailable, `milvus: ${what}: ${(error as Error).message}`, { cause: error });
  }
  return storeError(error, `milvus: ${what}`);
}

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
  throw statusError(statusOf(response) as ResStatus, what);
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
