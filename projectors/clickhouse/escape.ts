// ClickHouse 18.16 has no query parameters, so every value a statement embeds becomes a SQL
// literal here and nowhere else. Row data never goes through SQL text: the sink inserts it as
// JSONEachRow.

/** Backslash escapes ClickHouse reads back as the character itself; other control bytes become \xHH. */
const named: Record<string, string> = { '\\': '\\\\', "'": "\\'", '`': '\\`', '\0': '\\0', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

// with the u flag, \p{Cs} matches only surrogates without their pair: text UTF-8 cannot carry
const loneSurrogate = /\p{Cs}/u;

function escapeBetween(value: string, quote: "'" | '`'): string {
  if (typeof value !== 'string') throw new TypeError(`clickhouse: expected a string to quote, got ${typeof value}`);
  if (loneSurrogate.test(value)) throw new TypeError('clickhouse: a string with a lone UTF-16 surrogate has no UTF-8 form to send');
  const special = quote === "'" ? /[\\'\x00-\x1f\x7f]/g : /[\\`\x00-\x1f\x7f]/g;
  const body = value.replace(special, (c) => named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${quote}${body}${quote}`;
}

/** A string literal: `'...'`. */
export const sqlString = (value: string): string => escapeBetween(value, "'");

/** An identifier (table, view or column name): `` `...` ``, so a keyword or odd name stays a name. */
export const sqlIdentifier = (name: string): string => escapeBetween(name, '`');

/** A non-negative integer literal (a generation, an id, a version), refused unless it is exactly that. */
export function sqlUnsigned(value: number | bigint): string {
  const valid = typeof value === 'bigint' ? value >= 0n && value < 2n ** 64n : Number.isSafeInteger(value) && value >= 0;
  if (!valid) throw new TypeError(`clickhouse: ${String(value)} is not an unsigned 64-bit integer literal`);
  return String(value);
}
