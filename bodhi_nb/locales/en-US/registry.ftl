# The registry (bodhi_nb.app) and the command layer's own words (issue 9).
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

app_service_error-overrides_conflict = The registry for { $home } was already built with other settings ({ $keys }). Run `from bodhi_nb.app import reset_apps; reset_apps()` first, or build a registry of your own with `build_app_service` from `bodhi_nb.app`.

# The verbs of the command groups (`help api`, `help secret`, `help downloads`).
arg-api-add = add a remote API: api add NAME --base-url URL (the key is asked without echo)
arg-api-ls = list the API aliases
arg-api-test = check an API alias's key, and a model with a tiny prompt
arg-api-set-key = replace (or remove) an API alias's key
arg-api-rm = remove an API alias and its key
arg-secret-set = store a secret: its value is asked at a prompt, without echo
arg-secret-ls = list the stored secrets (names and dates, never values)
arg-secret-rm = remove a secret
arg-secret-rotate-key = encrypt every stored secret again under a new master key
arg-downloads-ls = list download requests (the default)
arg-downloads-retry = download a failed or interrupted request again
arg-downloads-archive = hide a request from the list (--all still shows it)
arg-downloads-id = the download request id
arg-downloads-all = include archived requests
arg-downloads-background = retry in background
