# The usage line that `secret` and `api` show on a parse error instead of what was typed (their
# words may be secrets). usage-COMMAND; the code keeps the same English line as a fallback.

usage-secret = usage: secret set NAME | secret ls | secret rm NAME | secret rotate-key
usage-api = usage: api add NAME --base-url URL [--models A,B] [--prefix P/] [--forward-all] [--api-key-env VAR | --no-api-key] | api ls | api test NAME [--model M] | api set-key NAME [--api-key-env VAR | --no-api-key] | api rm NAME
