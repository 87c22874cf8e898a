# Messages for bodhi_nb errors. The message id is the error code; { $prog } is `%bodhi` in a
# notebook and `bodhi` in a terminal.

bodhi_error = Unexpected error ({ $code }). Run the command again with --debug to see the traceback.

obj_validation_error-invalid_repo = Invalid repository format '{ $value }'. Expected 'username/repo'.
obj_validation_error-out_of_range = { $name } must be between { $min } and { $max }, got { $value }.
obj_validation_error-invalid_value = Invalid { $name } '{ $value }': { $reason }.
obj_validation_error-invalid_enum = Invalid { $name } '{ $value }'; expected one of: { $allowed }.

setting_service_error-unknown_key = Unknown setting '{ $key }'. Known settings: { $known }.
setting_service_error-invalid_value = Setting { $key } = '{ $value }' is not valid: expected { $expected }. Fix it with `{ $prog } settings { $key } VALUE`.
setting_service_error-read_only = Setting { $key } cannot be changed from here; set it in the environment before starting the kernel.
setting_service_error-file_error = Cannot read the settings file { $path }: { $reason }. Fix or delete the file.

db_error-busy = The database { $path } is busy, held by PID { $pid } for more than { $seconds } s. Close or idle the other notebook, then run the command again.
db_error-migration_tampered = Migration { $version } ({ $name }) was changed after it was applied; upgrade bodhi_nb or restore the database from a backup.
db_error-migration_failed = Migration { $version } ({ $name }) failed and was rolled back: { $reason }.
db_error-query_failed = Database error: { $reason }.
db_error-not_found = No { $table } with id '{ $id }'.
db_error-constraint = The change was refused by the database: { $reason }.
db_error-conflict = A { $table } with id '{ $id }' already exists.

localization_service_error-unsupported_locale = Unsupported locale '{ $locale }'; supported: { $supported }.

app_service_error-service_not_available = The { $service } service is not available yet in this version of bodhi_nb.

command_error-unknown_command = Unknown command '{ $command }'. Commands: { $commands }.
command_error-bad_arguments = { $command }: { $reason }. See `{ $prog } help { $command }`.
command_error-internal = Unexpected { $kind } error. Run the command again with --debug to see the traceback.

## keyring, secrets, sessions (issue 3)

## Hugging Face Hub and downloads (issue 4)

## aliases, GGUF metadata, local models (issue 4)
data_service_error-alias_exists = An alias named '{ $alias }' already exists. Pick another name, or remove it first with `{ $prog } alias rm { $alias }`.
data_service_error-alias_not_found = No alias named '{ $alias }'. `{ $prog } alias ls` lists the aliases.
data_service_error-alias_file_conflict = The alias '{ $alias }' would be stored in { $path }, which already holds the alias '{ $other }'. Pick a name that differs in more than spaces or the characters : < > " / \ | ? *.
data_service_error-invalid_alias_name = '{ $alias }' cannot be an alias name: { $reason }. Use letters, digits and - _ . : /
data_service_error-alias_file = Cannot use the alias file { $path }: { $reason }. Fix or delete the file, then run the command again.
data_service_error-gguf_invalid = { $path } is not a readable GGUF model file: { $reason }. Download it again (`{ $prog } help pull`) or remove it.
data_service_error-quant_not_found = No .gguf file with quantisation '{ $quant }'. Available quantisations: { $available }.
data_service_error-quant_ambiguous = Quantisation '{ $quant }' matches several files: { $candidates }. Name the file instead of the quantisation.
data_service_error-local_file_not_found = { $filename } from { $repo } (revision { $revision }) is not in the local Hugging Face cache. Download it first (`{ $prog } help pull`); `{ $prog } ls` lists the local models.
data_service_error-invalid_local_filename = Invalid file name '{ $filename }': { $reason }. Give a path inside the repository, without '..' or '\'.
data_service_error-invalid_local_revision = Invalid revision '{ $revision }': { $reason }. Give a branch, tag or commit hash such as 'main'.

## chat, API aliases, llama.cpp (issue 5)
