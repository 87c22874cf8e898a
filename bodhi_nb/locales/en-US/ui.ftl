# User-facing text of the command layer and the front ends (not errors: see errors.ftl).
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal. Ids: ui-* for phrases,
# col-* for table headings, cmd-* for command summaries, arg-COMMAND-DEST for argument help,
# setting-KEY for what a setting means.

## shared words

ui-none = (none)
ui-yes = yes
ui-no = no
ui-not-installed = not installed
ui-interrupted = interrupted
ui-source-override = override
ui-source-env = env
ui-source-file = file
ui-source-default = default

## help

ui-help-title = { $prog } COMMAND [ARGS]
ui-help-hint = `{ $prog } help COMMAND` shows a command's arguments; --debug on any command shows the traceback of an error.
ui-help-usage = usage:
ui-help-positionals = positional arguments
ui-help-options = options

## status and settings

ui-status-title = bodhi status
ui-status-hint = `{ $prog } status --verbose` also shows the database, its schema, the services and every setting.
ui-status-hf-cache = HF cache
ui-status-endpoint = Hub endpoint
ui-status-models = models
ui-status-models-none = none yet (`{ $prog } help pull`)
ui-status-models-count = { $count } GGUF file(s) (`{ $prog } ls`)
ui-status-locale = language
ui-status-master-key = master key
ui-status-database = database
ui-status-database-size = database size
ui-status-schema-version = schema version
ui-status-schema = { $version } of { $latest }
ui-status-tables = tables
ui-status-services = services
ui-status-not-available = not yet available
ui-settings-title = Settings
ui-settings-now = { $key } = { $value } ({ $source })
ui-settings-saved = { $key } = { $value } (saved to settings.yaml)
ui-settings-shadowed = saved to { $file }, but the { $source } value { $value } still wins until it is removed
ui-settings-unset-key = --unset needs a KEY

setting-BODHI_HOME = where bodhi keeps its database and files
setting-HF_HOME = Hugging Face home; models live in $HF_HOME/hub
setting-HF_ENDPOINT = the Hugging Face Hub to pull from
setting-BODHI_PULL_CONNECTIONS = connections that download one large file (64 MiB or more) in byte ranges; 1: one stream
setting-BODHI_LOCALE = language of messages
setting-BODHI_LOG_LEVEL = log level
setting-BODHI_KEEP_ALIVE_SECS = seconds a local model server stays up idle (0: stop after each request, -1: never)
setting-BODHI_DB_BUSY_TIMEOUT_SECS = how long to wait for another kernel holding the database
setting-BODHI_DB_IDLE_CLOSE_MS = idle time after which the database is handed back to other kernels
setting-BODHI_LLAMA_SERVER = path of llama-server (empty: search PATH, then llama_cpp.server)
setting-BODHI_LLAMACPP_ARGS = extra arguments for the llama.cpp server
setting-BODHI_AUTH_URL = OpenID server base URL
setting-BODHI_AUTH_REALM = OpenID realm

## table headings

col-command = command
col-what = what it does
col-package = package
col-version = version
col-setting = setting
col-value = value
col-source = source
col-meaning = meaning
col-item = item
col-name = name
col-created = created
col-updated = updated
col-base_url = base URL
col-models = models
col-prefix = prefix
col-forward_all = forward all
col-has_api_key = API key
col-check = check
col-result = result
col-repo = repo
col-file = file
col-quant = quant
col-size = size
col-arch = arch
col-context = context
col-aliases = aliases
col-alias = alias
col-snapshot = snapshot
col-request_params = request params
col-context_params = context params

## command summaries (`help`)

cmd-help = list the commands, or show one command's arguments
cmd-version = show the versions of bodhi_nb and its main dependencies
cmd-status = show where bodhi keeps its data, the Hub it pulls from and the models it has
cmd-settings = show settings with their sources, show one, or save KEY VALUE to settings.yaml
cmd-api = remote OpenAI-compatible APIs: add (key asked without echo), ls, test, set-key, rm
cmd-chat = chat with a model alias (local GGUF or API), streaming; %%bodhi chat for cells
cmd-history = show logged chat exchanges, newest first
cmd-pull = download a GGUF from the Hugging Face Hub (resumable, verified)
cmd-downloads = list download requests; retry a failed one; archive one
cmd-rm = remove downloaded files (REPO: the whole repository, REPO:QUANT, REPO/FILE) or --partials
cmd-ps = show the llama.cpp server running local models in this kernel; --stop stops it
cmd-ls = list the GGUF models in the local Hugging Face cache, with their aliases
cmd-alias = create, list, show, copy or remove model aliases
cmd-secret = store a secret (asked without echo), list or remove secrets, rotate the master key

## argument help (`help COMMAND`)

arg-json = print JSON
arg-help-topic = a command name
arg-status-verbose = also the database, its schema and tables, the services and every setting
arg-settings-key = a setting, e.g. BODHI_LOCALE
arg-settings-value = the new value, saved to settings.yaml
arg-settings-unset = remove KEY from settings.yaml
arg-secret-name = the secret's name, e.g. HF_TOKEN
arg-api-name = the alias name, e.g. openai
arg-api-base_url = the API's base URL, e.g. https://api.openai.com/v1
arg-api-models = comma-separated model ids (default: the provider's list, fetched with the key)
arg-api-prefix = a prefix that selects this alias, e.g. openai/ (chat with openai/gpt-4o-mini)
arg-api-forward_all = forward every model name under --prefix
arg-api-api_key_env = read the key from this environment variable instead of asking
arg-api-no_api_key = the server needs no key (do not ask)
arg-api-model = api test: the model to send a tiny prompt to
arg-alias-create = name a GGUF file: alias create NAME --repo OWNER/REPO --file FILE.gguf
arg-alias-create-name = the alias, e.g. llama3:instruct
arg-alias-create-repo = Hugging Face repository
arg-alias-create-file = the .gguf file in the repository
arg-alias-create-revision = branch, tag or commit
arg-alias-create-options = request default: temperature, top_p, max_tokens, seed, stop, frequency_penalty, presence_penalty, user, system_prompt
arg-alias-create-ctx = llama-server option, e.g. ctx-size=4096 or flash-attn
arg-alias-create-format = how answers render (default: Markdown, text for a GGUF without a chat template)
arg-alias-create-replace = replace an existing user alias of that name
arg-alias-ls = list user, model and API aliases
arg-alias-show = show one alias
arg-alias-copy = copy alias NAME to a new user alias TARGET
arg-alias-rm = remove a user alias (or its unreadable file)

## secret

secret-ls-title = Secrets
secret-ls-empty = (no secrets stored)
secret-removed = Removed secret { $name }.
secret-rotated = Re-encrypted { $secrets } secret(s) ({ $rows } stored values in all) with a new master key in the { $source }; the old key is no longer used.
secret-prompt = Value for { $name } (typing is hidden):
secret-stored = Stored secret { $name } (encrypted; `{ $prog } secret ls` lists names).
secret-no-more-words = { $action } takes no further words (not shown)
secret-rm-needs-name = rm needs a NAME
secret-set-needs-name = set needs a NAME; the value is asked at a prompt

## api

api-unknown-options = unknown option(s) { $options }
api-unknown-options-hidden = unknown option(s) (not shown)
api-needs-name = { $action } needs a NAME
api-add-needs-url = add needs --base-url URL
api-removed = Removed API alias { $alias } and its key.
api-models-added = { $count } model(s) listed by the server were added; --models A,B picks some.
api-no-key-stored = No API key stored.
api-test-hint = `{ $prog } api test { $alias }` checks the key and a model.
api-added = Added API alias { $alias } -> { $url } ({ $details }).
api-key-in-clear = { $url } is plain http to another machine: the API key will travel in clear. Use https unless the network is trusted.
api-ls-title = API aliases
api-ls-empty = (no API aliases; add one with `{ $prog } api add NAME --base-url URL`)
api-test-title = API alias { $alias }: OK
api-test-key = key
api-test-key-accepted = accepted
api-test-key-none = none needed
api-test-models = models listed
api-test-model = model { $model }
api-test-answered = answered: { $reply }
api-key-stored = Stored a new API key for { $alias } (encrypted).
api-key-removed = Removed the API key of { $alias }.
api-key-options-both = give --api-key-env VAR or --no-api-key, not both
api-key-prompt = API key for { $alias }:
api-describe-models = models: { $models }
api-describe-prefix = prefix { $prefix }
api-describe-key = API key stored encrypted
api-describe-no-key = no API key

## ls and alias

models-count = { $count } local models
models-unreadable = (unreadable)
models-title = Local models in { $root }
models-empty = (no GGUF files yet; `{ $prog } help pull` shows how to download one)
models-problems = { $count } file(s) could not be read as GGUF; download them again or remove them:
alias-bad-option = -o takes KEY=VALUE with KEY one of { $keys }; got { $item }
alias-expected-int = expected a whole number
alias-expected-number = expected a number
alias-bad-ctx = --ctx takes a llama-server option as KEY=VALUE or KEY, such as ctx-size=4096 or flash-attn; got { $item }
alias-not-downloaded = { $filename } is not downloaded yet; `{ $prog } help pull` shows how to get it.
alias-not-checked = Could not check with the Hub that { $repo } has this file (offline, or the Hub did not say); the alias is saved anyway.
alias-created = created alias { $alias } -> { $repo } { $filename } @ { $snapshot }
alias-ls-title = Aliases
alias-ls-empty = (no aliases; `{ $prog } alias create NAME --repo R --file F`)
alias-ls-problems = skipped { $count } alias file(s) that could not be read; fix or delete them (`{ $prog } alias rm NAME` removes one):
alias-copied = copied alias { $alias } to { $target }
alias-removed = removed alias { $alias } ({ $path })
alias-source-user = user
alias-source-model = model
alias-source-api = api

## argparse's complaints (the reason of command_error-bad_arguments)

ui-arg-invalid-choice = { $argument }: '{ $value }' is not one of { $choices }{ $has_suggestion ->
        [yes] {" "}(did you mean '{ $suggestion }'?)
       *[no] {""}
    }
ui-arg-required = missing { $arguments }
ui-arg-unrecognized = unexpected words: { $arguments }
ui-arg-expected-one = { $argument } needs a value
ui-arg-expected-some = { $argument } needs at least one value
ui-arg-invalid-value = { $argument }: { $value } is not a valid { $type }
ui-arg-not-allowed-with = { $argument } cannot be used with { $other }
ui-arg-one-required = one of { $arguments } is required
ui-arg-ignored-value = { $argument } takes no value (got { $value })

## names of positional arguments in `help COMMAND`

meta-key = key
meta-value = value
meta-topic = topic
meta-name = name
meta-target = target
meta-ref = ref
meta-file = file
meta-alias = alias
meta-prompt = prompt
meta-id = id
