DROP INDEX idx_user_access_requests_user;
DROP INDEX idx_user_access_requests_status;
ALTER TABLE user_access_requests DROP COLUMN rev;
ALTER TABLE user_access_requests DROP COLUMN claimed_at;
ALTER TABLE user_access_requests DROP COLUMN claim;
ALTER TABLE user_access_requests DROP COLUMN review_note;
ALTER TABLE user_access_requests DROP COLUMN role;
CREATE INDEX idx_user_access_requests_status ON user_access_requests (status, created_at);
