// What one _bulk response means, item by item (style.md section 8): 2xx applied; 409 already
// applied (the store holds this version or a newer one); 429/5xx transient, so the whole bulk is
// sent again, which the external versions make idempotent; any other 4xx is this record's
// fault (mapping or parse errors) and it is rejected to the dead-letter topic.
import type { estypes } from '@elastic/elasticsearch';
import type { Rejected, StoreOp } from '../runtime/sink.ts';
import type { EsOp } from './mapping/index.ts';

export type BulkOutcome = {
  applied: number;
  /** version conflicts: an equal or newer version is already in the index */
  alreadyApplied: number;
  rejected: Rejected[];
  /** reasons of items the store could not take now (429, 5xx) */
  transient: string[];
};

const describe = (status: number, error: estypes.ErrorCause | undefined) => {
  const cause = error?.caused_by?.reason ? ` (${error.caused_by.reason})` : '';
  return `${status} ${error?.type ?? 'error'}: ${error?.reason ?? 'no reason given'}${cause}`;
};

type BulkItems = Partial<Record<estypes.BulkOperationType, estypes.BulkResponseItem>>[];

const isTransient = (status: number) => status === 429 || status >= 500;

/**
 * The items a bulk of our own documents (checkpoints) did not write, described; transient
 * when every one of them is.
 */
export function bulkFailures(items: BulkItems): { reasons: string[]; transient: boolean } {
  const failed = items.map((entry) => Object.values(entry)[0] as estypes.BulkResponseItem).filter((item) => item.status < 200 || item.status >= 300);
  return { reasons: failed.map((item) => describe(item.status, item.error)), transient: failed.every((item) => isTransient(item.status)) };
}

/** `items` come back in the order of `ops`, one each. */
export function bulkOutcome(ops: StoreOp<EsOp>[], items: BulkItems): BulkOutcome {
  const outcome: BulkOutcome = { applied: 0, alreadyApplied: 0, rejected: [], transient: [] };
  const rejectedOffsets = new Set<string>();
  items.forEach((entry, i) => {
    const item = Object.values(entry)[0] as estypes.BulkResponseItem;
    const { status, error } = item;
    if (status >= 200 && status < 300) outcome.applied++;
    else if (status === 409) outcome.alreadyApplied++;
    else if (isTransient(status)) outcome.transient.push(describe(status, error));
    else {
      const { position } = (ops[i] as StoreOp<EsOp>).change;
      const key = `${position.topic}:${position.partition}:${position.offset}`;
      if (!rejectedOffsets.has(key)) outcome.rejected.push({ position, reason: describe(status, error) });
      rejectedOffsets.add(key);
    }
  });
  return outcome;
}
