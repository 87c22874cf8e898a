# The store floor (issue 9): schema versions and the PostgreSQL backend.
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

db_error-schema_too_new = The database is at schema version { $version }, newer than this bodhi_nb understands ({ $supported }). Upgrade bodhi_nb (`pip install -U bodhi_nb`), or run `{ $prog } db migrate --down` with the newer version.
db_error-bad_url = BODHI_DATABASE_URL { $url } cannot be used: { $reason }. Use postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or unset it for the embedded DuckDB.
db_error-unreachable = The database server { $location } does not answer ({ $reason }). Check that it is running and reachable, then run the command again.
db_error-auth_failed = The database server { $location } refused user { $user }. Check the user name and password in BODHI_DATABASE_URL.
db_error-database_missing = The database server { $location } has no database { $database }. Create it (`createdb { $database }`) or fix the name in BODHI_DATABASE_URL.
db_error-driver_missing = The { $backend } backend needs its Python driver. Install it with `pip install 'bodhi_nb[{ $extra }]'`.
setting-BODHI_DATABASE_URL = where every table lives: empty for DuckDB under BODHI_HOME, or postgresql://USER@HOST:PORT/DATABASE for a team
ui-status-pending-migrations = pending migrations

# `db` (status, migrate, migrate --down N)
cmd-db = the database: status, migrate, migrate --down N
arg-db-status = the backend, where the data lives, the schema version and pending migrations
arg-db-migrate = apply pending migrations, or undo the newest N with --down N
arg-db-migrate-down = undo the newest N applied migrations (asks first)
arg-db-migrate-yes = do not ask
db-status = { $backend }: { $location }, schema version { $version } of { $latest }, { $pending ->
    [0] no pending migration
    [one] 1 pending migration: run `{ $prog } db migrate`
   *[other] { $pending } pending migrations: run `{ $prog } db migrate`
    }.
db-migrations-title = Migrations
db-state-applied = applied
db-state-pending = pending
db-state-undone = undone
db-up-to-date = The database is up to date (schema version { $version }).
db-migrated = Applied { $count } migration(s)
db-undone = Undid { $count } migration(s)
db-down-positive = --down takes a number of migrations, 1 or more
db-nothing-to-undo = No migration is applied: nothing to undo.
db-down-confirm = Undo { $count } migration(s) on { $location } ({ $names })? Their tables and rows are dropped.
db-down-needs-yes = add -y to confirm undoing migrations
db-nothing-undone = Nothing was undone.
col-applied = applied
store-url-next-registry = The database is chosen when a kernel starts: restart the kernel (or run `bodhi` again) to use it.
