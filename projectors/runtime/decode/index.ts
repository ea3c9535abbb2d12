export { createDecoder } from './avro-decoder.ts';
export type { DecodeRecord, RawRecord, ReaderSchemas, SchemaLookup, SchemaVersions } from './avro-decoder.ts';
export { UNCHANGED } from './change.ts';
export type { Change, Decoded, Operation, Row, Tombstone, Unchanged } from './change.ts';
export { TOAST_PLACEHOLDER } from './debezium-types.ts';
export { registryLookup, registryVersions } from './registry-lookup.ts';
export { describeVersion, epochOf, isBeforeTruncate, snapshotReadVersion, sourceEpochHeader, sourceEpochOf, streamSinceHeader, versionText, withEpoch, type Ordered } from './version.ts';
