// Within one batch only the newest change per key matters: projections are states, not
// deltas. Keeps the highest-LSN change for each (table, key), in first-seen order.
import type { Change } from '../decode/index.ts';

const keyOf = (change: Change) => `${change.table}\u0000${JSON.stringify(change.key)}`;

export function reduceByKey(changes: Change[]): Change[] {
  const newest = new Map<string, Change>();
  for (const change of changes) {
    // a truncate has no key and orders against everything: never merge across it
    const key = change.op === 'truncate' ? `truncate\u0000${change.position.offset}` : keyOf(change);
    const seen = newest.get(key);
    if (!seen || (change.lsn ?? 0) >= (seen.lsn ?? 0)) {
      newest.delete(key);
      newest.set(key, change);
    }
  }
  return [...newest.values()];
}
