-- Batch answers (issue 14): an assistant row keeps the SHA-256 of its exchange's inputs
-- (model file, effective request params, messages), so a batch re-run reuses a logged,
-- complete answer instead of asking again; and what a reproducible analysis reads back:
-- the model file that answered (repo, file, resolved commit) and the server's finish reason.
-- DuckDB cannot alter a table that an index depends on: drop it around the change.
DROP INDEX idx_chat_messages_thread;
ALTER TABLE chat_messages ADD COLUMN input_key TEXT;
ALTER TABLE chat_messages ADD COLUMN repo TEXT;
ALTER TABLE chat_messages ADD COLUMN filename TEXT;
ALTER TABLE chat_messages ADD COLUMN model_commit TEXT;
ALTER TABLE chat_messages ADD COLUMN finish_reason TEXT;
CREATE INDEX idx_chat_messages_thread ON chat_messages (thread, created_at);
CREATE INDEX idx_chat_messages_input_key ON chat_messages (input_key);
