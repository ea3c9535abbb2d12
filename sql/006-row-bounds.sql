-- Bounds on the free-text and JSON columns, so that no change record can outgrow what Kafka
-- Connect, the topics and the projectors take (1 MB each, the defaults, set explicitly in
-- connectors/postgres-nova.json): one oversized row would otherwise fail the connector's task
-- for every table while the replication slot holds WAL. The largest row these allow, a message
-- at 64 KB of content and 16 KB of metadata, is under 200 KB as a change record even with
-- REPLICA IDENTITY FULL carrying it twice (before and after). Sizes are in bytes (octet_length).
-- The seed's types and names are unchanged; the API answers a violation (SQLSTATE 23514) with
-- a 4xx problem naming the column.
ALTER TABLE users
    ADD CONSTRAINT users_avatar_url_size CHECK (octet_length(avatar_url) <= 2048),
    ADD CONSTRAINT users_bio_size CHECK (octet_length(bio) <= 16384);
ALTER TABLE notifications
    ADD CONSTRAINT notifications_content_size CHECK (octet_length(content::text) <= 16384);
ALTER TABLE push_tokens
    ADD CONSTRAINT push_tokens_token_size CHECK (octet_length(token) <= 4096);
ALTER TABLE messages
    ADD CONSTRAINT messages_content_size CHECK (octet_length(content) <= 65536),
    ADD CONSTRAINT messages_metadata_size CHECK (octet_length(metadata::text) <= 16384);
ALTER TABLE live_streams
    ADD CONSTRAINT live_streams_description_size CHECK (octet_length(description) <= 16384),
    ADD CONSTRAINT live_streams_url_size CHECK (octet_length(thumbnail_url) <= 2048 AND octet_length(rtmp_url) <= 2048 AND octet_length(hls_url) <= 2048);
ALTER TABLE user_interactions
    ADD CONSTRAINT user_interactions_metadata_size CHECK (octet_length(metadata::text) <= 16384);
ALTER TABLE posts
    ADD CONSTRAINT posts_text_size CHECK (octet_length(text) <= 65536);
ALTER TABLE notification_settings
    ADD CONSTRAINT notification_settings_types_disabled_size CHECK (cardinality(types_disabled) <= 64 AND octet_length(array_to_string(types_disabled, ',')) <= 4096);
