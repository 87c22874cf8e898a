-- Access requests (issue 12): the role given on approval, the reviewer's note on a rejection,
-- and a claim that makes approval all or nothing: an approver first claims the pending row
-- (one conditional UPDATE: one winner), assigns the role at the provider, then marks the row
-- approved; a failed assignment releases the claim. A claim older than a minute is a crashed
-- approver's and may be taken over. rev counts the row's changes (the dashboard's poll sums
-- it). DuckDB cannot alter a table that an index depends on: drop it around the change.
DROP INDEX idx_user_access_requests_status;
ALTER TABLE user_access_requests ADD COLUMN role TEXT;
ALTER TABLE user_access_requests ADD COLUMN review_note TEXT;
ALTER TABLE user_access_requests ADD COLUMN claim TEXT;
ALTER TABLE user_access_requests ADD COLUMN claimed_at TIMESTAMP;
ALTER TABLE user_access_requests ADD COLUMN rev BIGINT DEFAULT 1;
CREATE INDEX idx_user_access_requests_status ON user_access_requests (status, created_at);
CREATE INDEX idx_user_access_requests_user ON user_access_requests (user_id, created_at);
