-- The source epoch of each connector (projectors/runtime/decode/version.ts): the top bits of
-- every version and commit order the projectors compare. The connector stamps it on each record
-- as a Kafka header; `scripts/nova connector epoch --bump` raises it when PostgreSQL's positions
-- restart lower (a restore, a major upgrade by logical replication: at the cutover) or after a
-- gap in the stream (a lost replication slot: `--after-gap`, which also sets stream_since).
-- `connector register` keeps the higher of this row and the deployed connector's config, so
-- losing either one never takes the epoch back. Not published: nothing projects it.
CREATE TABLE nova_source_epoch (
    connector TEXT PRIMARY KEY,
    epoch SMALLINT NOT NULL CHECK (epoch BETWEEN 0 AND 127),
    -- the first epoch of the current unbroken stream: records before it precede a gap
    stream_since SMALLINT NOT NULL CHECK (stream_since BETWEEN 0 AND epoch),
    bumped_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason TEXT
);
