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
setting_service_error-unreadable_file = Cannot read the settings file { $path }: { $reason }. Fix or delete the file.

db_error-busy = The database { $path } is busy, held by PID { $pid } for more than { $seconds } s. Close or idle the other notebook, then run the command again.
db_error-migration_tampered = Migration { $version } ({ $name }) was changed after it was applied; upgrade bodhi_nb or restore the database from a backup.
db_error-migration_failed = Migration { $version } ({ $name }) failed and was rolled back: { $reason }.
db_error-query_failed = Database error: { $reason }.
db_error-not_found = No { $table } with id '{ $id }'.
db_error-constraint = The change was refused by the database: { $reason }.
db_error-conflict = A { $table } with id '{ $id }' already exists.

localization_service_error-unsupported_locale = Unsupported locale '{ $locale }'; supported: { $supported }.

app_service_error-service_not_available = The { $service } service is not available yet in this version of bodhi_nb.

command_error-unknown_command = Unknown command '{ $command }'. { $has_suggestion ->
        [yes] Did you mean `{ $prog } { $suggestion }`? `{ $prog } help` lists the commands.
       *[no] Commands: { $commands }.
    }
command_error-bad_arguments = { $command }: { $reason }. See `{ $prog } help { $command }`.
command_error-internal = Unexpected { $kind } error. Run the command again with --debug to see the traceback.
command_error-ambiguous_id = '{ $id }' matches several ids: { $matches }. Type more characters of the id.
command_error-no_space = No space left on the device of { $path } ({ $reason }). Free some space (`{ $prog } rm --partials` removes unfinished downloads), then run the command again.
command_error-permission_denied = Cannot write { $path }: { $reason }. Make it writable for your user, or point BODHI_HOME or HF_HOME at a folder you own (`{ $prog } settings`).
command_error-not_a_folder = { $path } is a file where a folder is expected ({ $reason }). Move or remove that file, or point the setting that names it elsewhere (`{ $prog } settings`).
command_error-is_a_folder = { $path } is a folder where a file is expected ({ $reason }). Move or remove that folder, then run the command again.
command_error-path_not_found = { $path } does not exist ({ $reason }). Create it, or fix the setting that names it (`{ $prog } settings`).
command_error-os = The system refused an operation on { $path }: { $reason } ({ $kind }). Fix that cause, then run the command again; --debug shows the traceback.

## keyring, secrets, sessions (issue 3)

keyring_error-unavailable = No usable keyring on this machine ({ $reason }). bodhi keeps its master key in a key file instead; set BODHI_ENCRYPTION_KEY (20 characters or more) to choose the key yourself.
keyring_error-backend_failed = The keyring backend { $backend } failed: { $reason }. Unlock the keyring and try again, or set BODHI_ENCRYPTION_KEY (20 characters or more) to use your own key.
keyring_error-env_key_too_short = BODHI_ENCRYPTION_KEY has { $length } characters; it needs at least { $min }. Set a longer value (a password manager can generate one), or unset it to use the keyring or key file.
keyring_error-env_key_placeholder = BODHI_ENCRYPTION_KEY still holds the example value from the documentation. Set a random value of 20 characters or more.
keyring_error-env_key_rotation = The master key comes from BODHI_ENCRYPTION_KEY, which bodhi cannot change. To rotate it, put the old value in BODHI_ENCRYPTION_KEY_PREVIOUS and a new value in BODHI_ENCRYPTION_KEY, then run `{ $prog } secret rotate-key` again.
keyring_error-key_file_insecure = The key file { $path } can be read by other users (mode { $mode }). Fix it with `chmod 600 { $path }`, and rotate the key with `{ $prog } secret rotate-key` if others may have read it.
keyring_error-key_file_invalid = The key file { $path } is not a bodhi key file ({ $reason }). Restore it from a backup; if it is lost, remove it and set your secrets again with `{ $prog } secret set NAME`.
keyring_error-key_file_access = Cannot use the key file { $path }: { $reason }. Check the permissions of the folder, or set BODHI_ENCRYPTION_KEY (20 characters or more).
keyring_error-key_file_inside_home = The key file { $path } would sit inside BODHI_HOME ({ $home }), next to the secrets it protects. Point XDG_CONFIG_HOME elsewhere or set BODHI_ENCRYPTION_KEY.

secret_error-decrypt_failed = Cannot decrypt secret '{ $name }': wrong master key or corrupted secret. If BODHI_ENCRYPTION_KEY or the key file changed, restore the previous key; otherwise remove the secret with `{ $prog } secret rm { $name }` and set it again.
secret_error-malformed_envelope = Secret '{ $name }' is stored in a damaged form ({ $reason }). Remove it with `{ $prog } secret rm { $name }` and set it again.
secret_error-unsupported_envelope = Secret '{ $name }' was stored in format '{ $version }', which this version of bodhi_nb cannot read. Upgrade bodhi_nb, or recreate it with `{ $prog } secret rm { $name }` and `{ $prog } secret set { $name }`.
secret_error-master_key_missing = The master key that sealed the stored secrets (key id { $key_id }) was not found: not in BODHI_ENCRYPTION_KEY, the keyring or the key file. Restore it; if it is lost, remove every secret with `{ $prog } secret rm NAME` and set them again.
secret_error-not_found = No secret named '{ $name }'. `{ $prog } secret ls` lists the stored secrets.
secret_error-invalid_name = Invalid secret name '{ $name }': use letters, digits, '_', '.' or '-', starting with a letter or '_' (at most 128 characters), e.g. HF_TOKEN.
secret_error-value_on_command_line = Secret values are never taken on the command line: they would be saved in the notebook file and the shell history. Run `{ $prog } secret set { $name }` and type the value at the prompt. If you typed a real value, revoke it: it is now in your history.
secret_error-empty_value = No value was entered for '{ $name }'; nothing was stored. Run `{ $prog } secret set { $name }` again and type the value at the prompt.
secret_error-no_prompt = Cannot ask for the value of '{ $name }' here: there is no prompt. Run `bodhi secret set { $name }` in a terminal, or `{ $prog } secret set { $name }` in a notebook.

session_error-not_found = No such session: it was ended or replaced. Log in again with `{ $prog } login`.
session_error-expired = The session has expired. Log in again with `{ $prog } login`.
session_error-invalid_data = Session data must be JSON (text, numbers, lists, mappings): { $reason }.

## Hugging Face Hub and downloads (issue 4)

hub_service_error-invalid_reference = Cannot read the model reference '{ $value }': { $reason }. Use owner/repo FILE, owner/repo:QUANT or hf://owner/repo/FILE.
hub_service_error-gated_no_token = { $repo } is a gated repository. Request access at { $url }, then store your token with `{ $prog } secret set HF_TOKEN`.
hub_service_error-gated_access = Your Hugging Face token has no access to the gated repository { $repo } yet. Request access at { $url } and wait for approval.
hub_service_error-may_not_exist = Repository { $repo } was not found. Check the name; if it is private, store a token with `{ $prog } secret set HF_TOKEN`.
hub_service_error-repo_not_found = Repository { $repo } was not found, or your token cannot see it. Check the name and the token's permissions.
hub_service_error-revision_not_found = Revision '{ $revision }' does not exist in { $repo }. Use a branch, tag or commit of the repository (default: main).
hub_service_error-remote_file_not_found = File '{ $filename }' does not exist in { $repo } at revision { $revision }. `{ $prog } pull { $repo }` lists the repository's GGUF files.
hub_service_error-invalid_token = The Hugging Face Hub rejected the token from { $source }. Replace it with `{ $prog } secret set HF_TOKEN`, or unset HF_TOKEN.
hub_service_error-rate_limited = The Hugging Face Hub is rate-limiting requests; try again in { $retry_after } s.
hub_service_error-transport = Cannot reach { $endpoint }: { $reason }. Check the network (or HF_ENDPOINT), then run the same pull again: it resumes.
hub_service_error-unknown_hub = The Hugging Face Hub answered HTTP { $status } for { $url }. Try again later.
hub_service_error-checksum_mismatch = The download of { $filename } from { $repo } does not match its checksum even after a fresh download (expected { $expected }, got { $actual }); nothing was kept. Try again later.
hub_service_error-download_not_found = No download request with id '{ $id }'. `{ $prog } downloads` lists them.
hub_service_error-download_active = Download { $id } is still running; wait for it to finish before archiving it.
hub_service_error-download_not_failed = Download { $id } is { $status }; only a failed download can be retried.
hub_service_error-url_expired = The download link of { $filename } kept expiring (HTTP { $status }) even after asking the Hub for a new one. Check the computer's clock, then run the same pull again: it resumes.
hub_service_error-remote_file_changed = { $filename } in { $repo } changed on the Hub during the download. Run the same pull again to download the new version.

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

local_llm_service_error-runtime_missing = No llama.cpp runtime to run local models: llama-server is not on PATH and the Python module { $module } is missing. Install it with `pip install 'bodhi_nb[local]'`, or point BODHI_LLAMA_SERVER at a llama-server binary (`{ $prog } settings BODHI_LLAMA_SERVER /path/to/llama-server`).
local_llm_service_error-server_binary_not_found = BODHI_LLAMA_SERVER is set to '{ $path }', which is not an executable. Fix it with `{ $prog } settings BODHI_LLAMA_SERVER /path/to/llama-server`, or set it to llama_cpp.server to use `pip install 'bodhi_nb[local]'`.
local_llm_service_error-invalid_server_args = The llama.cpp server arguments from { $source } cannot be used ('{ $value }'): { $reason }. Write them as options such as --ctx-size 4096 (`{ $prog } settings BODHI_LLAMACPP_ARGS '...'`, or the alias's --ctx).
local_llm_service_error-model_file_missing = The model file of alias { $alias } is missing: { $path }. Download it again (`{ $prog } help pull`) or fix the alias.
local_llm_service_error-start_failed = The llama.cpp server for { $alias } stopped before it was ready (exit code { $exit_code }). Check that the file is a valid GGUF and the alias's context parameters; full log: { $log }. Last lines: { $stderr_tail }
local_llm_service_error-start_timeout = The llama.cpp server for { $alias } was not ready after { $seconds } s and was stopped. The machine may be busy or the model too large; full log: { $log }. Last lines: { $stderr_tail }

ai_api_service_error-unreachable = Cannot reach the API behind { $alias } at { $url }: { $reason }. Check the URL and the network; behind a proxy set HTTPS_PROXY (and NO_PROXY for local servers), and for a private CA set SSL_CERT_FILE.
ai_api_service_error-unauthorized = The API behind { $alias } rejected the API key (HTTP { $status }). Replace it with `{ $prog } api set-key { $alias }` (the key is asked at a prompt), then check it with `{ $prog } api test { $alias }`.
ai_api_service_error-model_not_found = The API behind { $alias } does not serve the model '{ $model }' (HTTP 404). `{ $prog } api test { $alias }` lists the models it serves; also check that the base URL ends in /v1.
ai_api_service_error-endpoint_not_found = { $url } does not exist (HTTP 404), so { $alias } has a wrong base URL. OpenAI-compatible base URLs usually end in /v1: remove the alias with `{ $prog } api rm { $alias }` and add it again.
ai_api_service_error-rate_limited = The API behind { $alias } is rate-limiting requests (HTTP 429, Retry-After: { $retry_after }). Wait that long, then try again; if it keeps happening, check the quota of the API key.
ai_api_service_error-context_too_long = The conversation is too long for the context window of { $model } ({ $alias }): { $reason }. Start a new thread, shorten the prompt or lower max_tokens.
ai_api_service_error-request_rejected = The API behind { $alias } refused the request (HTTP { $status }): { $reason }. Fix the parameters named in the message and try again.
ai_api_service_error-upstream_failed = The API behind { $alias } failed with HTTP { $status } ({ $url }). This is on the server's side: try again later.
ai_api_service_error-stream_interrupted = The answer from { $alias } was cut off after { $received } characters: { $reason }. The partial answer was not saved; run the same chat again.
ai_api_service_error-bad_response = The API behind { $alias } sent an answer bodhi cannot read ({ $url }: { $reason }). Check that the base URL points at an OpenAI-compatible API (usually ending in /v1).
ai_api_service_error-alias_exists = An API alias named '{ $alias }' already exists. Pick another name, or remove it first with `{ $prog } api rm { $alias }`.
ai_api_service_error-alias_not_found = No API alias named '{ $alias }'. `{ $prog } api ls` lists them.
ai_api_service_error-prefix_exists = The prefix '{ $prefix }' is already used by the API alias '{ $alias }'. Pick another --prefix, or remove that alias with `{ $prog } api rm { $alias }`.
ai_api_service_error-invalid_base_url = Invalid base URL '{ $url }': { $reason }. Give an http:// or https:// URL such as https://api.openai.com/v1.
ai_api_service_error-unsupported_api_format = API alias { $alias } uses the format '{ $format }', which bodhi cannot chat with; supported: { $supported }.
ai_api_service_error-api_key_on_command_line = API keys are never taken on the command line: they would be saved in the notebook and the shell history. Run `{ $prog } api add { $alias } --base-url URL` and type the key at the prompt, or pass --api-key-env VAR. If you typed a real key, revoke it: it is now in your history.
ai_api_service_error-api_key_env_missing = The environment variable { $var } named by --api-key-env is not set or empty. Set it before starting the kernel, or leave out --api-key-env to type the key at a prompt.
ai_api_service_error-api_key_no_prompt = Cannot ask for the API key of '{ $alias }' here: there is no prompt. Pass --api-key-env VAR naming an environment variable that holds the key, or --no-api-key for a server without one.

## chat orchestration and history (issue 5)

chat_service_error-model_not_downloaded = Alias { $alias } points at { $repo } { $filename }, which is not downloaded. Run `{ $prog } pull { $repo } { $filename }` first.
chat_service_error-no_model = API alias { $alias } serves no model by that name. Chat with PREFIX/MODEL, or list its models with `{ $prog } api ls`.
chat_service_error-bad_param = Request parameter { $name } = '{ $value }' is not valid: { $reason }. Write it as `-o { $name }=VALUE`.
