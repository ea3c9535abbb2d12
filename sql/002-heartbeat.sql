-- Debezium's heartbeat.action.query writes here:
--   INSERT INTO debezium_heartbeat (id, beat_at) VALUES (1, now())
--   ON CONFLICT (id) DO UPDATE SET beat_at = EXCLUDED.beat_at
-- A replication slot only advances when the connector confirms an LSN from a change it
-- received. While every projected table is idle, this table (it is in the publication) keeps
-- producing changes, so the slot moves on and PostgreSQL can recycle the WAL behind it.
--
-- REPLICA IDENTITY DEFAULT: a single row addressed by its key; nothing reads `before`.
CREATE TABLE debezium_heartbeat (
    id SMALLINT PRIMARY KEY,
    beat_at TIMESTAMPTZ NOT NULL
);
ALTER TABLE debezium_heartbeat REPLICA IDENTITY DEFAULT;
