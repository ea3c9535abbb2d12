// The connection to ClickHouse, and what its failures mean to the runtime.
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { NovaError, codes, storeError } from '../runtime/errors.ts';

/**
 * A client from CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD and, if set,
 * CLICKHOUSE_DATABASE (else the server's `default`; the database must exist). The client's own
 * logger is off: every failure reaches the runtime classified, and is logged there once.
 */
export function clickhouseClient(env: NodeJS.ProcessEnv): ClickHouseClient {
  const url = env['CLICKHOUSE_URL'];
  if (!url) throw new Error('clickhouse: CLICKHOUSE_URL is not set');
  return createClient({
    url,
    username: env['CLICKHOUSE_USER'] ?? 'default',
    password: env['CLICKHOUSE_PASSWORD'] ?? '',
    database: env['CLICKHOUSE_DATABASE'] || 'default',
    log: { level: ClickHouseLogLevel.OFF },
  });
}

// 18.16's errors reach the client as text ("Code: 27, e.displayText() = ..."), which it does
// not parse (err.code is undefined), so the code is read from the message. Numbers are
// ClickHouse's ErrorCodes.
const codeOf = (error: unknown): number | undefined => {
  const match = /^Code: (\d+),/.exec((error as Error)?.message ?? '');
  return match ? Number(match[1]) : undefined;
};

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

/** The server is busy or short of something for now: the same request can succeed later. */
const overloaded = new Set([
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  252, // TOO_MANY_PARTS: inserts outrun merges
]);

export const isRefusedData = (error: unknown): boolean => refusedData.has(codeOf(error) ?? -1);

/** A failure classified once: overload and the network are transient, anything else fatal. */
export function clickhouseError(error: unknown): NovaError {
  if (overloaded.has(codeOf(error) ?? -1)) {
    return new NovaError('transient', codes.storeUnavailable, `clickhouse: ${(error as Error).message}`, { cause: error });
  }
  return storeError(error, 'clickhouse');
}

/** Runs `work`, throwing any failure classified. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw clickhouseError(error);
  }
}
