// What a PostgreSQL row's (or a view's JSON) column becomes in an answer, for every domain.

/** text as text, NULL as null */
export const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** a timestamptz as ISO 8601 (a view's JSON already holds one), NULL as null */
export const isoOrNull = (value: unknown): string | null => (value instanceof Date ? value.toISOString() : textOrNull(value));

/** a NOT NULL (or defaulted) timestamptz as ISO 8601 */
export const iso = (value: unknown): string => isoOrNull(value) ?? '';
