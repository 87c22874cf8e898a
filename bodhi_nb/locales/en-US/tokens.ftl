# API tokens (issue 13): token create, ls, revoke, and the errors of a request's token.
# A message never holds a token: at most its prefix (sk-bodhiapp_ + 8 characters).

token_error-malformed = This is not a bodhi API token (they start with sk-bodhiapp_). Copy the whole token, or make one: `{ $prog } token create NAME`.
token_error-bad_checksum = This API token is damaged (its checksum does not match: mistyped or cut short). Copy the whole token again.
token_error-unknown = This API token is not known here. Make one: `{ $prog } token create NAME`.
token_error-revoked = The API token { $name } was revoked. Make a new one: `{ $prog } token create NAME`.
token_error-name_taken = You already have an active token named { $name }: choose another name, or `{ $prog } token revoke { $name }` first.
token_error-not_found = You have no token named { $name }: `{ $prog } token ls` lists yours.
token_error-scope_above_yours = A token cannot have the scope { $scope }: your role is { $have }. Use --scope user.
token_error-bad_scope = { $scope } is not a token scope; one of: { $scopes }.
token_error-bad_name = A token's name is 1 to 64 characters with no control characters.
token_error-session_only = API tokens are managed from a login (`{ $prog } token …` in a notebook or a terminal), not with a token.

cmd-token = API tokens for `bodhi serve` clients: create (shown once), list, revoke
arg-token-create = make an API token; it is shown once, on a line of its own
arg-token-create-name = a name for the token (one of yours, e.g. the tool that uses it)
arg-token-create-scope = user (chat, models) or power_user (also pull and aliases); default user
arg-token-ls = your API tokens (never the tokens themselves)
arg-token-revoke = revoke an API token: refused from its next request on
arg-token-revoke-name = the token's name
token-created = API token { $name } (scope { $scope }) created. Copy it now: it is shown this once and cannot be shown again.
token-created-use = Use it as the API key of an OpenAI-compatible client (Authorization: Bearer …) against `{ $prog } serve`.
token-ls-title = API tokens
token-ls-empty = No API tokens yet: `{ $prog } token create NAME`.
token-revoked = API token { $name } ({ $prefix }…) revoked.
token-never = never
token-status-active = active
token-status-revoked = revoked
col-scope = scope
col-last_used = last used
