# La ligne d'utilisation que `secret` et `api` affichent sur une erreur d'analyse au lieu de ce
# qui a été tapé (ce peut être un secret). usage-COMMANDE ; le code garde la même ligne en
# anglais en secours.

usage-secret = utilisation : secret set NOM | secret ls | secret rm NOM | secret rotate-key
usage-api = utilisation : api add NOM --base-url URL [--models A,B] [--prefix P/] [--forward-all] [--api-key-env VAR | --no-api-key] | api ls | api test NOM [--model M] | api set-key NOM [--api-key-env VAR | --no-api-key] | api rm NOM
