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
