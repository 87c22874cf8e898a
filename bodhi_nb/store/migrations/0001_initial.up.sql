-- Wave-one tables. Portable SQL (DuckDB today, PostgreSQL later): TEXT ids (ULIDs),
-- naive-UTC TIMESTAMPs with second precision, JSON kept as TEXT, enums as CHECKed TEXT.
-- tenant_id/user_id are kept (constant in standalone use) so team backends need no rework.

CREATE TABLE download_requests (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL DEFAULT '',
    repo             TEXT NOT NULL,
    filename         TEXT NOT NULL,
    revision         TEXT NOT NULL DEFAULT 'main',
    status           TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'error')),
    error            TEXT,
    total_bytes      BIGINT,
    downloaded_bytes BIGINT NOT NULL DEFAULT 0 CHECK (downloaded_bytes >= 0),
    started_at       TIMESTAMP,
    archived_at      TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX idx_download_requests_repo_file ON download_requests (repo, filename);

CREATE TABLE user_access_requests (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL DEFAULT '',
    username   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    reason     TEXT,
    reviewer   TEXT,
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_user_access_requests_status ON user_access_requests (status, created_at);

CREATE TABLE api_model_aliases (
    id                      TEXT PRIMARY KEY,
    name                    TEXT NOT NULL,
    tenant_id               TEXT NOT NULL DEFAULT '',
    user_id                 TEXT NOT NULL DEFAULT '',
    api_format              TEXT NOT NULL DEFAULT 'openai'
                            CHECK (api_format IN ('openai', 'openai_responses', 'anthropic',
                                                  'gemini')),
    base_url                TEXT NOT NULL,
    models                  TEXT NOT NULL DEFAULT '[]',
    prefix                  TEXT,
    forward_all_with_prefix BOOLEAN NOT NULL DEFAULT FALSE,
    extra_headers           TEXT,
    extra_body              TEXT,
    encrypted_api_key       TEXT,
    salt                    TEXT,
    nonce                   TEXT,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, user_id, name)
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    token_prefix TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    grants       TEXT NOT NULL,
    last_used_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, token_prefix)
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_sessions_user_id ON sessions (user_id);

-- value is a versioned envelope ("v2:" + base64 ciphertext); salt and nonce are base64;
-- key_id names the master key that sealed the row (key rotation).
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL DEFAULT '',
    value      TEXT NOT NULL,
    salt       TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE chat_messages (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL DEFAULT '',
    thread     TEXT NOT NULL,
    exchange   TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content    TEXT NOT NULL,
    alias      TEXT,
    model      TEXT,
    params     TEXT,
    usage      TEXT,
    timings    TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX idx_chat_messages_thread ON chat_messages (thread, created_at);
