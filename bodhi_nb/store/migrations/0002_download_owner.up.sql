-- Who runs a download: "host|boot id|pid|process start", set when a pull starts, so a row
-- whose process died (kill -9, a crashed kernel) is seen as interrupted, not pending forever.
-- DuckDB cannot alter a table that an index depends on: drop it around the change.
DROP INDEX idx_download_requests_repo_file;
ALTER TABLE download_requests ADD COLUMN owner TEXT;
CREATE INDEX idx_download_requests_repo_file ON download_requests (repo, filename);
