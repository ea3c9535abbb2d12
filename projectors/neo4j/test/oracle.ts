// What only the tests need on top of the reconcile comparison (../drift.ts): a scope of some
// users (them and every pair they are in), and a short summary of the differences.
import type { Drift } from '../../runtime/sink.ts';
import type { Scope } from '../reader-view.ts';

export { differences, expectedFromPostgres } from '../drift.ts';
export { readerView, type Scope } from '../reader-view.ts';

/** These users, and every pair with one of them at either end. */
export const usersScope = (ids: number[]): Scope => {
  const keys = ids.map(String);
  return { users: keys, pairs: [], touching: keys };
};

/** The count and the first few differences: never megabytes. */
export const summary = (found: Drift[], limit = 5) => `${found.length} differences${found.slice(0, limit).map((d) => `\n  ${d.view} ${d.key}: ${d.detail}`).join('')}`;
