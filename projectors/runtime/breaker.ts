// Trips when most recent records went to the dead-letter topic: then the fault is almost never
// in the records (a mapping that refuses every row after a deploy, a store whose index rejects
// every document), and dead-lettering on at full speed would skip a whole stream. Tripped, the
// runtime stalls every partition and tries again after a cool-down, which doubles each time the
// rate is still high right after.
export type DeadLetterBreaker = {
  /** one sink call's records and how many of them were dead-lettered; true if that trips it */
  record(records: number, deadLettered: number): boolean;
  /** the cool-down before the next attempt, once tripped */
  coolDownMs(): number;
  /** after a cool-down: let records through again, and remember to back off if it trips soon */
  halfOpen(): void;
};

export type BreakerOptions = {
  /** the window: this many of the latest records */
  window?: number;
  /** trips when at least this many of the window were dead-lettered ... */
  minDeadLetters?: number;
  /** ... and they are at least this share of it */
  ratio?: number;
  initialCoolDownMs?: number;
  maxCoolDownMs?: number;
};

export function deadLetterBreaker(options: BreakerOptions = {}): DeadLetterBreaker {
  const { window = 500, minDeadLetters = 50, ratio = 0.5, initialCoolDownMs = 30_000, maxCoolDownMs = 15 * 60_000 } = options;
  // per sink call: [records, dead letters], newest last, covering at least `window` records
  let calls: Array<[number, number]> = [];
  let coolDown = initialCoolDownMs;
  let probing = false;
  return {
    record(records, deadLettered) {
      calls.push([records, deadLettered]);
      let total = calls.reduce((n, [r]) => n + r, 0);
      while (calls.length > 1 && total - (calls[0] as [number, number])[0] >= window) total -= (calls.shift() as [number, number])[0];
      const letters = calls.reduce((n, [, d]) => n + d, 0);
      const tripped = letters >= minDeadLetters && letters >= ratio * total;
      if (tripped) {
        if (probing) coolDown = Math.min(maxCoolDownMs, coolDown * 2);
        calls = [];
      } else if (probing && total >= window) {
        probing = false;
        coolDown = initialCoolDownMs;
      }
      return tripped;
    },
    coolDownMs: () => coolDown,
    halfOpen() {
      probing = true;
    },
  };
}
