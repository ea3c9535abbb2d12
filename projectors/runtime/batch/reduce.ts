// Within one batch only the newest change per key matters to a store that addresses rows by
// key: projections are states, not deltas. Keeps the highest-version change for each (table, key),
// in first-seen order. A column the newest change left UNCHANGED (an unmodified TOASTed value
// under REPLICA IDENTITY DEFAULT) takes the value an older change of the batch carried.
import { UNCHANGED, type Change } from '../decode/index.ts';

const keyOf = (change: Change) => `${change.table}\u0000${JSON.stringify(change.key)}`;

/** The newer change, with the values it left UNCHANGED taken from the older one where it had them. */
function carryUnchanged(older: Change, newer: Change): Change {
  if (!newer.after || !older.after) return newer;
  let after: Record<string, unknown> | undefined;
  for (const [column, value] of Object.entries(newer.after)) {
    const known = older.after[column];
    if (value === UNCHANGED && known !== undefined && known !== UNCHANGED) (after ??= { ...newer.after })[column] = known;
  }
  return after ? { ...newer, after: after as Change['after'] } : newer;
}

export function reduceByKey(changes: Change[]): Change[] {
  const newest = new Map<string, Change>();
  for (const change of changes) {
    // a truncate has no key and orders against everything: never merge across it
    const key = change.op === 'truncate' ? `truncate\u0000${change.position.offset}` : keyOf(change);
    const seen = newest.get(key);
    if (!seen || change.version >= seen.version) {
      newest.delete(key);
      newest.set(key, seen ? carryUnchanged(seen, change) : change);
    }
  }
  return [...newest.values()];
}
