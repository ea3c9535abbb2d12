-- Every table PostgreSQL owns as the source of truth, in dependency order. Columns,
-- constraints and indexes follow shared/seed/nova-architecture.zh.md exactly; posts and the
-- two embedding tables are Nova's additions.
--
-- REPLICA IDENTITY decides what a change's `before` carries in the WAL, and so in Debezium's
-- envelope. FULL logs the whole old row, with TOASTed values flattened into it, so a delete or
-- an update can be projected without a read-back; it costs a second copy of the row in WAL.
-- DEFAULT logs only the primary key, which is enough when the key addresses everything a
-- projector has to undo.

-- users: FULL. bio is TOASTable, and with FULL an update that leaves it untouched still
-- carries it in `before`, so Debezium's unavailable-value placeholder never reaches a store.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(50) NOT NULL UNIQUE,
    avatar_url TEXT,
    bio TEXT,
    created_at TIMESTAMPTZ DEFAULT NOW()
);
ALTER TABLE users REPLICA IDENTITY FULL;

-- notifications: FULL. A delete must carry user_id (and is_read) to fix that user's unread count.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    type VARCHAR(50) NOT NULL, -- 'like', 'comment', 'follow', 'mention', 'message'
    actor_id BIGINT NOT NULL REFERENCES users(id), -- 谁触发的
    target_type VARCHAR(50), -- 'post', 'comment', 'user'
    target_id BIGINT,
    content JSONB, -- 额外数据 {"post_id": 123, "text": "..."}
    is_read BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    read_at TIMESTAMPTZ
);
CREATE INDEX idx_notifications_user_unread ON notifications(user_id, is_read, created_at DESC);
CREATE INDEX idx_notifications_created ON notifications(created_at) WHERE NOT is_read;
ALTER TABLE notifications REPLICA IDENTITY FULL;

-- notification_settings: FULL. types_disabled is an array, TOASTable once it grows; FULL keeps
-- an unchanged one recoverable from `before`.
CREATE TABLE notification_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    push_enabled BOOLEAN DEFAULT TRUE,
    email_enabled BOOLEAN DEFAULT TRUE,
    types_disabled TEXT[] DEFAULT '{}', -- ['like', 'follow']
    updated_at TIMESTAMPTZ DEFAULT NOW()
);
ALTER TABLE notification_settings REPLICA IDENTITY FULL;

-- push_tokens: FULL. The cache is keyed by user (push:tokens:{user_id}), so a delete must
-- carry user_id and token, not just id.
CREATE TABLE push_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    platform VARCHAR(20) NOT NULL, -- 'ios', 'android', 'web'
    token TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    last_used_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_push_tokens_user ON push_tokens(user_id);
ALTER TABLE push_tokens REPLICA IDENTITY FULL;

-- conversations: FULL. A delete must carry both participants to drop it from their lists.
CREATE TABLE conversations (
    id BIGSERIAL PRIMARY KEY,
    participant1_id BIGINT NOT NULL REFERENCES users(id),
    participant2_id BIGINT NOT NULL REFERENCES users(id),
    last_message_id BIGINT,
    last_message_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    CONSTRAINT participants_order CHECK (participant1_id < participant2_id),
    UNIQUE(participant1_id, participant2_id)
);
CREATE INDEX idx_conversations_p1 ON conversations(participant1_id, last_message_at DESC);
CREATE INDEX idx_conversations_p2 ON conversations(participant2_id, last_message_at DESC);
ALTER TABLE conversations REPLICA IDENTITY FULL;

-- messages: FULL. A delete must carry conversation_id (the Kafka key and the unread counts).
-- content is TOASTable: FULL logs the old tuple flattened, so an unchanged content is
-- recovered from `before` and the unavailable-value placeholder never has to reach a store.
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    sender_id BIGINT NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    message_type VARCHAR(20) DEFAULT 'text', -- 'text', 'image', 'video', 'file'
    metadata JSONB, -- {"file_url": "...", "thumbnail": "..."}
    is_deleted BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_messages_conversation ON messages(conversation_id, created_at DESC);
CREATE INDEX idx_messages_sender ON messages(sender_id, created_at DESC);
ALTER TABLE messages REPLICA IDENTITY FULL;

-- message_read_status: DEFAULT. Its key (user_id, conversation_id) is all a delete needs.
CREATE TABLE message_read_status (
    user_id BIGINT NOT NULL REFERENCES users(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    last_read_message_id BIGINT NOT NULL,
    last_read_at TIMESTAMPTZ DEFAULT NOW(),
    PRIMARY KEY (user_id, conversation_id)
);
ALTER TABLE message_read_status REPLICA IDENTITY DEFAULT;

-- live_streams: FULL. A delete or status change must carry user_id and the old status to
-- move the stream between the live and ended views; description is TOASTable.
CREATE TABLE live_streams (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    title VARCHAR(255) NOT NULL,
    description TEXT,
    thumbnail_url TEXT,
    rtmp_url TEXT NOT NULL, -- 推流地址
    hls_url TEXT, -- 播放地址
    status VARCHAR(20) DEFAULT 'preparing', -- 'preparing', 'live', 'ended'
    viewer_count INT DEFAULT 0,
    peak_viewer_count INT DEFAULT 0,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_live_streams_status ON live_streams(status, started_at DESC);
ALTER TABLE live_streams REPLICA IDENTITY FULL;

-- follows: FULL. A delete or a status change must carry follower_id/followee_id (and the old
-- status) to remove the edge from Neo4j and the follower sets in Redis.
CREATE TABLE follows (
    id BIGSERIAL PRIMARY KEY,
    follower_id BIGINT NOT NULL REFERENCES users(id),
    followee_id BIGINT NOT NULL REFERENCES users(id),
    status VARCHAR(20) DEFAULT 'active', -- 'active', 'blocked', 'muted'
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(follower_id, followee_id)
);
CREATE INDEX idx_follows_follower ON follows(follower_id, created_at DESC);
CREATE INDEX idx_follows_followee ON follows(followee_id, created_at DESC);
ALTER TABLE follows REPLICA IDENTITY FULL;

-- user_stats: DEFAULT. Rows are whole counters keyed by user_id; a delete needs only the key.
CREATE TABLE user_stats (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    follower_count INT DEFAULT 0,
    following_count INT DEFAULT 0,
    post_count INT DEFAULT 0,
    updated_at TIMESTAMPTZ DEFAULT NOW()
);
ALTER TABLE user_stats REPLICA IDENTITY DEFAULT;

-- user_interactions: DEFAULT. Append-mostly and the highest-volume table: FULL would double
-- its WAL for the rare update or delete.
CREATE TABLE user_interactions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    target_type VARCHAR(50) NOT NULL, -- 'post', 'user', 'tag'
    target_id BIGINT NOT NULL,
    interaction_type VARCHAR(50) NOT NULL, -- 'view', 'like', 'comment', 'share'
    interaction_value FLOAT, -- 权重
    metadata JSONB,
    created_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_interactions_user ON user_interactions(user_id, created_at DESC);
ALTER TABLE user_interactions REPLICA IDENTITY DEFAULT;

-- posts: FULL. text is TOASTable (same reason as messages.content), and a delete must carry
-- author_id to fix the author's post count and timeline.
CREATE TABLE posts (
    id BIGSERIAL PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_posts_author ON posts(author_id, created_at DESC);
ALTER TABLE posts REPLICA IDENTITY FULL;

-- user_embeddings / post_embeddings: the source of truth for Milvus (256-dim FLOAT_VECTOR).
-- DEFAULT: a vector is about 1 KB and a delete needs only the key, so FULL would double the
-- WAL of every re-embedding for nothing. The CHECK refuses in PostgreSQL what Milvus would
-- refuse later, where it could only be dead-lettered: a wrong length, a 16x16 matrix, or a
-- NULL element.
CREATE TABLE user_embeddings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    embedding REAL[] NOT NULL,
    model_version VARCHAR(50) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT embedding_256_dims CHECK (
        array_ndims(embedding) = 1 AND cardinality(embedding) = 256 AND array_position(embedding, NULL) IS NULL
    )
);
ALTER TABLE user_embeddings REPLICA IDENTITY DEFAULT;

CREATE TABLE post_embeddings (
    post_id BIGINT PRIMARY KEY REFERENCES posts(id),
    embedding REAL[] NOT NULL,
    model_version VARCHAR(50) NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    CONSTRAINT embedding_256_dims CHECK (
        array_ndims(embedding) = 1 AND cardinality(embedding) = 256 AND array_position(embedding, NULL) IS NULL
    )
);
ALTER TABLE post_embeddings REPLICA IDENTITY DEFAULT;
