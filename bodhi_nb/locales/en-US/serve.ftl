# The OpenAI-compatible endpoint (issue 13): `serve`, its line in `ps`, and its errors.

cmd-serve = serve this kernel's models as an OpenAI-compatible endpoint (/v1/chat/completions, /v1/models, /v1/embeddings); --stop stops it
arg-serve-port = the port to listen on (default: any free port)
arg-serve-host = the interface to listen on (default 127.0.0.1: this machine only; another needs OpenID or --require-token)
arg-serve-require_token = every request needs an API token (`token create`)
arg-serve-stop = stop the endpoint this kernel serves

serve-serving = Serving this kernel's models at { $url }
serve-example = From Python: `OpenAI(base_url="{ $url }", api_key=TOKEN).chat.completions.create(model=ALIAS, messages=[...])`; `GET { $url }/models` lists the aliases.
serve-open = Open to this machine without a token (any api_key will do; an API token, when sent, is checked); `--require-token` requires one.
serve-token-required = Every request needs a token: `Authorization: Bearer TOKEN` (an API token from `{ $prog } token create NAME`, or an access token of the OpenID provider).
serve-background = It runs in the background of this kernel; `{ $prog } serve --stop` stops it.
serve-foreground = Serving until Ctrl-C.
serve-stopped = Stopped the endpoint at { $url }.
serve-stopped-none = No endpoint was running.
serve-bad-port = port { $port } is not between 0 and 65535 (0: any free port)
ps-endpoint = OpenAI-compatible endpoint: { $url } (since { $since } UTC)

chat_service_error-embeddings_local_only = { $alias } is an API alias: embeddings come from local aliases only (a GGUF served by llama.cpp). Name a local alias (`{ $prog } alias ls`).
serve_error-needs_auth = Serving on { $host } would open your models to the network without authentication. Create an API token (`{ $prog } token create NAME`) and add `--require-token`, or turn on OpenID login (`{ $prog } auth setup`); or serve on 127.0.0.1.
serve_error-port_in_use = Port { $port } on { $host } is already in use by another program. Choose another with `--port`, or leave it out to take any free port.
serve_error-cannot_listen = Cannot listen on { $host } port { $port }: { $reason }. Check `--host` (an address of this machine, or 0.0.0.0) and `--port`.
serve_error-already_serving = This kernel already serves its models at { $url }. Stop it first with `{ $prog } serve --stop`.
serve_error-bad_json = The request body is not a JSON object ({ $reason }).
serve_error-bad_field = The field `{ $field }` is not valid: { $reason }.
serve_error-route_not_found = No route { $method } { $path }. The endpoint serves GET /v1/models, POST /v1/chat/completions, POST /v1/embeddings and GET /health.
serve_error-method_not_allowed = { $path } does not take { $method }.
serve_error-token_required = This endpoint needs a token: send `Authorization: Bearer TOKEN` (an API token from `{ $prog } token create NAME`).
serve_error-token_not_accepted = The bearer token is not one this endpoint accepts: send an API token (`sk-bodhiapp_...`), or, with OpenID login on, an access token of its provider.
