# Jetons d'API (ticket 13) : token create, ls, revoke, et les erreurs du jeton d'une requête.
# Un message ne contient jamais de jeton : au plus son préfixe (sk-bodhiapp_ + 8 caractères).

token_error-malformed = Ceci n'est pas un jeton d'API bodhi (ils commencent par sk-bodhiapp_). Copiez le jeton en entier, ou créez-en un : `{ $prog } token create NOM`.
token_error-bad_checksum = Ce jeton d'API est abîmé (sa somme de contrôle ne correspond pas : faute de frappe ou jeton tronqué). Copiez de nouveau le jeton en entier.
token_error-unknown = Ce jeton d'API est inconnu ici. Créez-en un : `{ $prog } token create NOM`.
token_error-revoked = Le jeton d'API { $name } a été révoqué. Créez-en un nouveau : `{ $prog } token create NOM`.
token_error-name_taken = Vous avez déjà un jeton actif nommé { $name } : choisissez un autre nom, ou d'abord `{ $prog } token revoke { $name }`.
token_error-not_found = Vous n'avez aucun jeton nommé { $name } : `{ $prog } token ls` liste les vôtres.
token_error-scope_above_yours = Un jeton ne peut pas avoir la portée { $scope } : votre rôle est { $have }. Utilisez --scope user.
token_error-bad_scope = { $scope } n'est pas une portée de jeton ; au choix : { $scopes }.
token_error-bad_name = Le nom d'un jeton compte de 1 à 64 caractères, sans caractère de contrôle.
token_error-session_only = Les jetons d'API se gèrent depuis une connexion (`{ $prog } token …` dans un notebook ou un terminal), pas avec un jeton.

cmd-token = jetons d'API pour les clients de `bodhi serve` : créer (affiché une fois), lister, révoquer
arg-token-create = créer un jeton d'API ; il est affiché une seule fois, sur une ligne à part
arg-token-create-name = un nom pour le jeton (parmi les vôtres, p. ex. l'outil qui s'en sert)
arg-token-create-scope = user (discussion, modèles) ou power_user (aussi pull et alias) ; user par défaut
arg-token-ls = vos jetons d'API (jamais les jetons eux-mêmes)
arg-token-revoke = révoquer un jeton d'API : refusé dès sa requête suivante
arg-token-revoke-name = le nom du jeton
token-created = Jeton d'API { $name } (portée { $scope }) créé. Copiez-le maintenant : il n'est affiché que cette fois et ne pourra plus l'être.
token-created-use = Utilisez-le comme clé d'API d'un client compatible OpenAI (Authorization: Bearer …) avec `{ $prog } serve`.
token-ls-title = Jetons d'API
token-ls-empty = Aucun jeton d'API pour l'instant : `{ $prog } token create NOM`.
token-revoked = Jeton d'API { $name } ({ $prefix }…) révoqué.
token-never = jamais
token-status-active = actif
token-status-revoked = révoqué
col-scope = portée
col-last_used = dernier usage
