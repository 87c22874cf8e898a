-- A version per topic of cached reads (see Store.cached/bump): a backend shared by several
-- hosts (PostgreSQL) bumps the topic's row after a change, so every host reloads at once.
-- DuckDB keeps a file per topic instead and leaves this table empty.
CREATE TABLE store_versions (
    topic   TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
