-- What the API keeps beside the seed's tables. Neither is in the publication (003): no view
-- is derived from them.

-- comments: a comment on a post (the seed names comments as a notification target but has no
-- table for them). Its notifications, to the post's author and to each user it mentions, are
-- written in the same transaction.
CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts(id),
    author_id BIGINT NOT NULL REFERENCES users(id),
    text TEXT NOT NULL CONSTRAINT comments_text_size CHECK (octet_length(text) <= 16384),
    created_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_comments_post ON comments(post_id, created_at DESC);

-- api_idempotency: one row per (user, Idempotency-Key), written in the create's own
-- transaction, so a retry finds either nothing (the first attempt rolled back) or the first
-- response (it committed), never a half. request_hash refuses a key reused for another
-- request. Rows older than a day are pruned by the API (bounded by a day of creates).
CREATE TABLE api_idempotency (
    user_id BIGINT NOT NULL,
    key VARCHAR(255) NOT NULL,
    request_hash TEXT NOT NULL,
    status SMALLINT,
    body JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idx_api_idempotency_created ON api_idempotency(created_at);
