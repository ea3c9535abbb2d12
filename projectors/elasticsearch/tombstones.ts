// How a delete is remembered for good. Elasticsearch forgets a deleted document's version after
// index.gc_deletes (60 s), and then an older change of that row (a replayed dead letter, a
// partition replayed from an old checkpoint) would index it again. So a delete is written as a
// tombstone: a document under the row's id at the delete's external version, which every older
// change then meets as a 409, however late it comes. Readers never see one: every reader alias
// carries readerFilter, and whatever compares a generation with PostgreSQL reads through it too.
// (A GET by id ignores alias filters: readers search, an `ids` query for one document.)

/** The one field of a tombstone, declared in every index's mappings; live documents never have it. */
export const tombstoneField = 'nova_tombstone';

export const tombstone = { [tombstoneField]: true } as const;

/** What readers see of a generation index: everything but tombstones. */
export const readerFilter = { bool: { must_not: [{ term: { [tombstoneField]: true } }] } };
