// A consistency token: a PostgreSQL WAL position taken after a write committed
// (pg_current_wal_insert_lsn(), which is past the end of the commit record). Opaque to clients:
// `1.<hex>`, the 1 a format version.
const tokenPattern = /^1\.([0-9a-f]{1,16})$/;

export const encodeToken = (lsn: bigint) => `1.${lsn.toString(16)}`;

/** The LSN in a token, or undefined when the text is none. */
export function decodeToken(token: string): bigint | undefined {
  const hex = tokenPattern.exec(token)?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/** PostgreSQL's `X/Y` text form of an LSN as one 64-bit number. */
export function lsnFromText(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not an LSN: ${text}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}
