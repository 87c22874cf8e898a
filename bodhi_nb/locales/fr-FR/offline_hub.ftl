# Le Hub hors ligne (issue 9) : `hub serve DOSSIER`, `hub stop`, et ses erreurs.

cmd-hub = sert un dossier de modèles comme un Hugging Face Hub hors ligne pour une classe : serve DOSSIER, stop
arg-hub-serve = sert un dossier de dépôts (PROPRIÉTAIRE/NOM/fichiers) ; --stop l'arrête
arg-hub-folder = le dossier des dépôts, organisé en PROPRIÉTAIRE/NOM/fichiers
arg-hub-port = le port d'écoute (par défaut : un port libre)
arg-hub-host = l'interface d'écoute (0.0.0.0 sert toute la salle)
arg-hub-stop = arrête le Hub hors ligne que sert ce noyau
meta-folder = DOSSIER

offline-hub-serving = Hub hors ligne : { $root } ({ $repos ->
    [one] { $repos } dépôt
   *[other] { $repos } dépôts
    }) servi à { $endpoint }
offline-hub-students = Les élèves s'y connectent avec `HF_ENDPOINT={ $endpoint }` (dans un terminal : `HF_ENDPOINT={ $endpoint } bodhi pull PROPRIÉTAIRE/NOM FICHIER` ; dans un notebook : `%bodhi settings HF_ENDPOINT { $endpoint }`).
offline-hub-empty = { $root } ne contient encore aucun dépôt : organisez-le en PROPRIÉTAIRE/NOM/fichiers (un fichier ajouté ensuite est servi aussitôt).
offline-hub-local-only = Seule cette machine peut l'atteindre ; `--host 0.0.0.0` sert toute la salle.
offline-hub-background = Il tourne en arrière-plan de ce noyau ; `{ $prog } hub stop` l'arrête.
offline-hub-foreground = Service jusqu'à Ctrl-C.
offline-hub-stopped = Hub hors ligne de { $endpoint } arrêté.
offline-hub-stopped-none = Aucun Hub hors ligne ne tournait.
offline-hub-needs-folder = indiquez le dossier à servir : `{ $prog } hub serve DOSSIER`
offline-hub-stop-no-folder = `hub stop` ne prend pas de dossier
offline-hub-bad-port = le port { $port } n'est pas entre 0 et 65535 (0 : un port libre)

offline_hub_error-root_not_a_folder = { $path } n'est pas un dossier. Servez un dossier organisé en PROPRIÉTAIRE/NOM/fichiers : `{ $prog } hub serve DOSSIER`.
offline_hub_error-port_in_use = Le port { $port } sur { $host } est déjà utilisé par un autre programme. Choisissez-en un autre avec `--port`, ou omettez-le pour prendre un port libre.
offline_hub_error-cannot_listen = Impossible d'écouter sur { $host } port { $port } : { $reason }. Vérifiez `--host` (une adresse de cette machine, ou 0.0.0.0) et `--port`.
offline_hub_error-already_serving = Un Hub hors ligne tourne déjà ici : { $root } servi à { $endpoint }. Arrêtez-le d'abord avec `{ $prog } hub stop`.
