// What a failed Elasticsearch request means, by the client's error class and the HTTP status
// (never the message): the server gave up in time (408, 504) or the client's timeout fired,
// which may be the batch's own size: bounded; the request body too large for the server (413):
// bounded too, a split fixes it; overloaded (429) or failing (5xx): transient; the server did
// not answer: transient. Anything else (a 4xx we sent wrong, a body that would not serialise)
// is unknown to us, so fatal.
import { errors } from '@elastic/elasticsearch';
import { storeError, type ErrorKind } from '../runtime/errors.ts';

export function kindOf(error: unknown): ErrorKind | undefined {
  if (error instanceof errors.TimeoutError) return 'bounded';
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError) return 'transient';
  if (!(error instanceof errors.ResponseError)) return undefined;
  const status = error.statusCode ?? 0;
  if (status === 408 || status === 504 || status === 413) return 'bounded';
  if (status === 429 || status >= 500) return 'transient';
  return undefined;
}

/** A failure of the client, classified; Nova's own refusals (an Error naming the repair) pass as they are. */
export const elasticsearchError = (error: unknown): unknown =>
  error instanceof errors.ElasticsearchClientError ? storeError(error, 'elasticsearch', kindOf) : error;
