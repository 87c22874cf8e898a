-- DuckDB cannot drop a column whose index was dropped in the same transaction: the table
-- is rebuilt as 0001 made it, rows kept.
CREATE TABLE chat_messages_v4 (
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
INSERT INTO chat_messages_v4 (id, tenant_id, thread, exchange, seq, role, content, alias,
                              model, params, usage, timings, created_at)
    SELECT id, tenant_id, thread, exchange, seq, role, content, alias, model, params, usage,
           timings, created_at FROM chat_messages;
DROP TABLE chat_messages;
ALTER TABLE chat_messages_v4 RENAME TO chat_messages;
CREATE INDEX idx_chat_messages_thread ON chat_messages (thread, created_at);
