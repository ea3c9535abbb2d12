// The connection to ClickHouse, and what its failures mean to the runtime.
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { novaConfig } from '../../config/nova-config.ts';
import { NovaError, codes, storeError, type ErrorKind } from '../runtime/errors.ts';

/** How long a write may take before Nova gives up on it: a deadline of its own, see withDeadline. */
export const writeDeadlineMs = 60_000;

/**
 * A client from CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD and, if set,
 * CLICKHOUSE_DATABASE (else the server's `default`; the database must exist). The client's own
 * logger is off: every failure reaches the runtime classified, and is logged there once.
 */
export function clickhouseClient(env: NodeJS.ProcessEnv): ClickHouseClient {
  const { url, user, password, database } = novaConfig(env).clickhouse();
  return createClient({
    url,
    username: user,
    password,
    database,
    log: { level: ClickHouseLogLevel.OFF },
    // past Nova's own deadline (withDeadline), so the abort is Nova's and known by its signal
    request_timeout: writeDeadlineMs + 30_000,
  });
}

/**
 * Runs a request under Nova's own deadline. The client's timeout error carries no code, only a
 * message; a signal we aborted tells us for certain, and a request that never finishes in time
 * may be the batch's own size: 'bounded' (the runtime retries, then splits the batch).
 */
export async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms = writeDeadlineMs): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  try {
    return await work(signal);
  } catch (error) {
    if (signal.aborted) throw new NovaError('bounded', codes.storeTimeout, `clickhouse: no answer within ${ms / 1000} s`, { cause: error });
    throw error;
  }
}

/**
 * The server's error code (ClickHouse's ErrorCodes). A current server's error text is parsed by
 * the client into `code`; 18.16's ("Code: 27, e.displayText() = ...") is not, so there the
 * code is the text's "Code: N," prefix, which the server writes for every error.
 */
export function clickhouseCode(error: unknown): number | undefined {
  const parsed = (error as { code?: unknown } | undefined)?.code;
  if (typeof parsed === 'string' && /^\d+$/.test(parsed)) return Number(parsed);
  const match = /^Code: (\d+),/.exec((error as Error | undefined)?.message ?? '');
  return match ? Number(match[1]) : undefined;
}

/** The server refused the data itself (a value it cannot parse or convert): retrying cannot help. */
const refusedData = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
]);

/** The rows of an INSERT the server refused: the sink dead-letters those it refuses one by one. */
export const isRefusedData = (error: unknown): boolean => refusedData.has(clickhouseCode(error) ?? -1);

const kinds = new Map<number, ErrorKind>([
  // may be the request's own size: retried a few times, then the batch is split
  [159, 'bounded'], // TIMEOUT_EXCEEDED
  [241, 'bounded'], // MEMORY_LIMIT_EXCEEDED
  // the server is busy or unreachable for now: the same request succeeds later
  [202, 'transient'], // TOO_MANY_SIMULTANEOUS_QUERIES
  [209, 'transient'], // SOCKET_TIMEOUT
  [210, 'transient'], // NETWORK_ERROR
  [252, 'transient'], // TOO_MANY_PARTS: inserts outrun merges
]);

/** The kind of a ClickHouse failure, by its code; undefined for one it does not know. */
export const clickhouseKind = (error: unknown): ErrorKind | undefined => kinds.get(clickhouseCode(error) ?? -1);

/**
 * A failure classified once, by code: the codes above, Node's network codes transient, anything
 * else fatal. Refused data is not poison here: outside a row INSERT (insertRows) it is not a
 * record's fault (a checkpoint the table cannot take is the table's).
 */
export const clickhouseError = (error: unknown): NovaError => storeError(error, 'clickhouse', clickhouseKind);

/** Runs `work`, throwing any failure classified. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw clickhouseError(error);
  }
}

const tableAlreadyExists = 57; // TABLE_ALREADY_EXISTS

/** CREATE ... IF NOT EXISTS still fails when another process creates the same table at that moment. */
export async function createIfMissing(client: ClickHouseClient, statement: string): Promise<void> {
  try {
    await client.command({ query: statement });
  } catch (error) {
    if (clickhouseCode(error) !== tableAlreadyExists) throw error;
  }
}
