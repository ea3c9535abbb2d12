-- Debezium's signalling table (the "source" channel): a row inserted here with type
-- 'execute-snapshot' makes the connector re-read the named tables in chunks, interleaved
-- with streaming (an incremental snapshot). A rebuild needs it: a topic keeps only its
-- retention's worth of history, so rows unchanged for longer are no longer in Kafka; the
-- snapshot puts every current row back. Debezium also writes its chunk watermarks here,
-- which is why it may insert and delete.
--
-- Columns in Debezium's required order (id, type, data); the names are ours.
CREATE TABLE debezium_signal (
    id VARCHAR(64) PRIMARY KEY,
    type VARCHAR(32) NOT NULL,
    data VARCHAR(2048)
);
ALTER TABLE debezium_signal REPLICA IDENTITY DEFAULT;
ALTER PUBLICATION nova_cdc ADD TABLE debezium_signal;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'debezium') THEN
        GRANT SELECT, INSERT, DELETE ON debezium_signal TO debezium;
    END IF;
END
$$;
