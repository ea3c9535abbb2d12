// A read many callers share: the readers' live-generation lookups (each store's views.ts) and
// the read-your-writes waiter's positions (api/consistency/watermarks.ts).

/** A call unanswered this long no longer holds the others back. */
export const stuckMs = 1_000;

/**
 * One call in flight at a time for everyone who asks while it runs, or within `reuseMs` after it
 * answered; a call unanswered after `stuckMs` no longer holds the others back (a store that
 * hangs), and a new one starts.
 */
export function shared<T>(load: () => Promise<T>, reuseMs: number): () => Promise<T> {
  type Entry = { value: Promise<T>; startedAt: number; answeredAt?: number };
  let last: Entry | undefined;
  return () => {
    const now = Date.now();
    const stale = last && (last.answeredAt === undefined ? now - last.startedAt > stuckMs : now - last.answeredAt > reuseMs);
    if (!last || stale) {
      const entry: Entry = { value: load(), startedAt: now };
      entry.value.then(
        () => (entry.answeredAt = Date.now()),
        () => (last === entry ? (last = undefined) : undefined),
      );
      last = entry;
    }
    return last.value;
  };
}
