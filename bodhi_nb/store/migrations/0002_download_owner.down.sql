DROP INDEX idx_download_requests_repo_file;
ALTER TABLE download_requests DROP COLUMN owner;
CREATE INDEX idx_download_requests_repo_file ON download_requests (repo, filename);
