// Gathers work handed in concurrently (one partition's records per caller) into shared
// flushes: the partitions of a fetch round reach the store in one call, not one call each.
// While `maxInFlight` flushes run, new work waits and joins the next one, so batches grow
// with the store's latency instead of queueing behind it. Each caller's promise settles
// with the flush that carried its item.
export type Gather<T> = (item: T, weight: number) => Promise<void>;

export type GatherOptions<T> = {
  /** a flush takes items up to this total weight (always at least one item) */
  maxWeight: number;
  /** flushes running at once */
  maxInFlight: number;
  flush: (items: T[]) => Promise<void>;
};

type Waiting<T> = { item: T; weight: number; resolve: () => void; reject: (error: unknown) => void };

export function gather<T>({ maxWeight, maxInFlight, flush }: GatherOptions<T>): Gather<T> {
  const waiting: Waiting<T>[] = [];
  let inFlight = 0;
  let scheduled = false;

  // after the current turn, so callers started together (one fetch's partitions) share a flush
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drain);
  };

  function take(): Waiting<T>[] {
    let count = 0;
    let weight = 0;
    while (count < waiting.length && (count === 0 || weight + (waiting[count] as Waiting<T>).weight <= maxWeight)) {
      weight += (waiting[count] as Waiting<T>).weight;
      count += 1;
    }
    return waiting.splice(0, count);
  }

  function drain() {
    scheduled = false;
    while (inFlight < maxInFlight && waiting.length > 0) {
      const taken = take();
      inFlight += 1;
      flush(taken.map((w) => w.item))
        .then(
          () => taken.forEach((w) => w.resolve()),
          (error: unknown) => taken.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          inFlight -= 1;
          if (waiting.length > 0) schedule();
        });
    }
  }

  return (item, weight) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, weight, resolve, reject });
      schedule();
    });
}
