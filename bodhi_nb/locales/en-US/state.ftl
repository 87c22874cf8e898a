# Persistent state: settings.yaml, BODHI_HOME, the database, download rows (issue 8).
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

setting_service_error-unwritable_file = Cannot write the settings file { $path }: { $reason }. Make its folder writable, or point BODHI_HOME at a folder you own.
db_error-home_not_a_directory = BODHI_HOME { $path } is not a folder. Move that file away, or set BODHI_HOME to a folder before starting the kernel.
db_error-home_not_writable = Cannot write in BODHI_HOME { $path }: { $reason }. Make it writable (`chmod u+rwx { $path }`), or set BODHI_HOME to a folder you own.
db_error-corrupt = The database { $path } is damaged or not a DuckDB file ({ $reason }). Move it aside (`mv { $path } { $path }.broken`); the next command creates a new one.

downloads-interrupted = interrupted; `{ $prog } downloads retry { $id }` resumes it
settings-moved-aside = The unreadable settings file was moved to { $path }; the new settings.yaml holds only this setting.
settings-ignored = { $key } in settings.yaml is ignored (using the default): { $reason }
downloads-title = Download requests
downloads-empty = (no downloads yet)
downloads-needs-id = { $action } needs an ID
downloads-state-pending = pending
downloads-state-completed = completed
downloads-state-error = error
downloads-state-interrupted = interrupted
downloads-state-running = { $state } (running)
col-progress = progress
col-started = started
col-error = error

keyring-created-in-keyring = Created a new master key in the keyring ({ $backend }, service '{ $service }', entry '{ $entry }').
keyring-created-key-file = Created a new master key in the key file { $path } (mode 0600; no OS keyring on this machine). Keep it and back it up: without it the stored secrets cannot be read.

# Where the master key lives (status, secret rotate-key).
keysrc-env = { $name }
keysrc-keyring = keyring ({ $backend })
keysrc-file = key file ({ $path })
keysrc-unusable = unusable ({ $reason })
keysrc-missing = missing (key id { $key_id })
keysrc-none-yet = none yet (the first `{ $prog } secret set` creates it)
keysrc-none-yet-keyring = none yet (the first `{ $prog } secret set` creates it in the keyring ({ $backend }))
keysrc-none-yet-file = none yet (the first `{ $prog } secret set` creates it in the key file { $path })
