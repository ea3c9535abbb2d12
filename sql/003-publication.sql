-- What Debezium's pgoutput slot streams: exactly the projected tables, named one by one so a
-- table added later is projected only when a migration says so (FOR ALL TABLES would also
-- stream schema_migrations and anything else created in this database).
CREATE PUBLICATION nova_cdc FOR TABLE
    users,
    notifications,
    notification_settings,
    push_tokens,
    conversations,
    messages,
    message_read_status,
    live_streams,
    follows,
    user_stats,
    user_interactions,
    posts,
    user_embeddings,
    post_embeddings,
    debezium_heartbeat
WITH (publish = 'insert, update, delete, truncate');

-- The replication role reads every published table for the initial snapshot and writes the
-- heartbeat. The role belongs to the cluster, not to this database, so a database migrated
-- without it (a developer's scratch database) still migrates; the table list is read back from
-- the publication so the grant can never drift from it.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'debezium') THEN
        EXECUTE (
            SELECT 'GRANT SELECT ON ' || string_agg(format('%I.%I', schemaname, tablename), ', ') || ' TO debezium'
            FROM pg_publication_tables
            WHERE pubname = 'nova_cdc'
        );
        GRANT INSERT, UPDATE ON debezium_heartbeat TO debezium;
    END IF;
END
$$;
