# Le point d'accès compatible OpenAI (issue 13) : `serve`, sa ligne dans `ps`, et ses erreurs.

cmd-serve = sert les modèles de ce noyau par un point d'accès compatible OpenAI (/v1/chat/completions, /v1/models, /v1/embeddings) ; --stop l'arrête
arg-serve-port = le port d'écoute (par défaut : un port libre)
arg-serve-host = l'interface d'écoute (par défaut 127.0.0.1 : cette machine seulement ; une autre demande OpenID ou --require-token)
arg-serve-require_token = chaque requête doit porter un jeton d'API (`token create`)
arg-serve-stop = arrête le point d'accès que sert ce noyau

serve-serving = Les modèles de ce noyau sont servis à { $url }
serve-example = Depuis Python : `OpenAI(base_url="{ $url }", api_key=JETON).chat.completions.create(model=ALIAS, messages=[...])` ; `GET { $url }/models` liste les alias.
serve-open = Ouvert à cette machine sans jeton (n'importe quel api_key convient ; un jeton d'API envoyé est vérifié) ; `--require-token` en exige un.
serve-token-required = Chaque requête doit porter un jeton : `Authorization: Bearer JETON` (un jeton d'API de `{ $prog } token create NOM`, ou un jeton d'accès du fournisseur OpenID).
serve-background = Il tourne en arrière-plan de ce noyau ; `{ $prog } serve --stop` l'arrête.
serve-foreground = Service jusqu'à Ctrl-C.
serve-stopped = Point d'accès de { $url } arrêté.
serve-stopped-none = Aucun point d'accès ne tournait.
serve-bad-port = le port { $port } n'est pas entre 0 et 65535 (0 : un port libre)
ps-endpoint = Point d'accès compatible OpenAI : { $url } (depuis { $since } UTC)

chat_service_error-embeddings_local_only = { $alias } est un alias d'API : les plongements viennent des alias locaux seulement (un GGUF servi par llama.cpp). Nommez un alias local (`{ $prog } alias ls`).
serve_error-needs_auth = Servir sur { $host } ouvrirait vos modèles au réseau sans authentification. Créez un jeton d'API (`{ $prog } token create NOM`) et ajoutez `--require-token`, ou activez la connexion OpenID (`{ $prog } auth setup`) ; ou servez sur 127.0.0.1.
serve_error-port_in_use = Le port { $port } sur { $host } est déjà utilisé par un autre programme. Choisissez-en un autre avec `--port`, ou omettez-le pour prendre un port libre.
serve_error-cannot_listen = Impossible d'écouter sur { $host } port { $port } : { $reason }. Vérifiez `--host` (une adresse de cette machine, ou 0.0.0.0) et `--port`.
serve_error-already_serving = Ce noyau sert déjà ses modèles à { $url }. Arrêtez-le d'abord avec `{ $prog } serve --stop`.
serve_error-bad_json = Le corps de la requête n'est pas un objet JSON ({ $reason }).
serve_error-bad_field = Le champ `{ $field }` n'est pas valide : { $reason }.
serve_error-route_not_found = Pas de route { $method } { $path }. Le point d'accès sert GET /v1/models, POST /v1/chat/completions, POST /v1/embeddings et GET /health.
serve_error-method_not_allowed = { $path } n'accepte pas { $method }.
serve_error-token_required = Ce point d'accès demande un jeton : envoyez `Authorization: Bearer JETON` (un jeton d'API de `{ $prog } token create NOM`).
serve_error-token_not_accepted = Ce jeton n'est pas accepté ici : envoyez un jeton d'API (`sk-bodhiapp_...`), ou, avec la connexion OpenID active, un jeton d'accès de son fournisseur.
