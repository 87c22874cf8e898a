## Hub Hugging Face et cache HF (issue 8) : un hub qui ment, un disque plein, une adresse invalide

hub_service_error-bad_metadata = Le hub { $url } a envoyé une valeur { $field } invalide (« { $value } ») ; rien n'a été écrit. Vérifiez que HF_ENDPOINT désigne un Hub Hugging Face de confiance (`{ $prog } settings HF_ENDPOINT`).
hub_service_error-unverifiable_file = { $filename } dans { $repo } est un gros fichier (LFS), mais le hub { $url } n'a fourni aucun SHA-256 pour le vérifier ; il n'a donc pas été téléchargé. Vérifiez que HF_ENDPOINT désigne un Hub Hugging Face de confiance (`{ $prog } settings HF_ENDPOINT`).
hub_service_error-unsafe_path = Écriture de { $path } refusée : ce chemin sort du dossier de cache { $base }. Vérifiez que HF_ENDPOINT désigne un Hub Hugging Face de confiance (`{ $prog } settings HF_ENDPOINT`).
hub_service_error-bad_response = { $url } n'a pas répondu comme un Hub Hugging Face ({ $reason }). Vérifiez HF_ENDPOINT (`{ $prog } settings HF_ENDPOINT`) ; la valeur par défaut est https://huggingface.co.
hub_service_error-invalid_endpoint = HF_ENDPOINT « { $url } » est inutilisable : { $reason }. Indiquez une URL http(s) comme https://huggingface.co avec `{ $prog } settings HF_ENDPOINT URL`.
hub_service_error-no_space = Plus d'espace disponible sur { $path } ; le téléchargement partiel { $partial } occupe { $size }. Libérez de l'espace puis relancez le même pull pour reprendre, ou supprimez les fichiers partiels avec `{ $prog } rm --partials`.
hub_service_error-cannot_write = Impossible d'écrire { $path } : { $reason }. Rendez le cache Hugging Face accessible en écriture, ou faites pointer HF_HOME vers un dossier accessible (`{ $prog } settings HF_HOME CHEMIN`).
hub_service_error-cached_file_truncated = La copie en cache de { $filename } ({ $repo }) fait { $size } octets alors que le Hub annonce { $expected } ({ $path }). Téléchargez-la à nouveau avec `{ $prog } pull { $repo } { $filename } --force`.

## actions de `pull --dry-run` ajoutées ici (les autres : voir la commande pull)

hub-would-download-again = serait téléchargé à nouveau
hub-truncated-in-cache = tronqué dans le cache ({ $size } octets sur { $expected }) ; { $next }
hub-add-force = ajoutez --force

## pull : les fichiers d'un dépôt, une simulation, un téléchargement (issue 8, point 26)

hub-files-title = Fichiers GGUF de { $repo } ({ $revision })
hub-files-empty = (aucun fichier .gguf)
hub-files-hint = Téléchargez-en un avec `{ $prog } pull { $repo }:QUANT` ou `{ $prog } pull { $repo } FICHIER`.
hub-dry-run-title = { $repo } @ { $revision } (simulation)
hub-in-cache = déjà dans le cache
hub-would-download = serait téléchargé
hub-downloaded = téléchargé
hub-started-in-background = lancé en arrière-plan
hub-alias-created = alias { $alias } -> { $repo }/{ $filename }
hub-background-hint = `{ $prog } downloads` affiche la progression

# Ce qu'un téléchargement signale en cours de route (avis du service hub, affiché par l'interface).
hub-discarded-partial = { $filename } : les octets sur le disque ne correspondaient pas à la somme de contrôle du Hub ; ils ont été supprimés et le téléchargement reprend depuis le début
hub-resuming = { $filename } : connexion perdue à { NUMBER($bytes) } octets ({ $reason }) ; reprise
hub-no-ranges = { $filename } : le serveur n'envoie pas de plages d'octets ; la suite passe par une seule connexion

## rm

hub-rm-no-partials = (aucun téléchargement partiel)
hub-rm-needs-ref = indiquez un modèle ou --partials
hub-rm-no-match = rien à supprimer : aucun fichier local ne correspond à { $ref }
hub-rm-confirm = Supprimer { $count } fichier(s), { $size } : { $files } ?
hub-rm-needs-yes = ajoutez -y pour confirmer
hub-rm-nothing-removed = rien n'a été supprimé
hub-rm-title = Supprimés
hub-freed = { $size } libérés

## en-têtes de tableau et aide des arguments de pull et rm

col-action = action
col-id = id
col-status = état
col-path = chemin
col-removed_partial = fichier partiel supprimé
arg-pull-ref = propriétaire/dépôt, propriétaire/dépôt:QUANT, propriétaire/dépôt/FICHIER ou hf://propriétaire/dépôt/FICHIER
arg-pull-file = le fichier, quand la référence est propriétaire/dépôt
arg-pull-revision = branche, étiquette ou commit
arg-pull-alias = crée un alias de modèle pour le fichier en cas de succès
arg-pull-dry_run = montre ce qui serait téléchargé, et sa taille
arg-pull-background = rend la main aussitôt ; `downloads` affiche la progression
arg-pull-force = télécharge à nouveau, même un fichier déjà dans le cache (une copie tronquée ou abîmée)
arg-pull-connections = nombre de connexions pour télécharger un gros fichier (par défaut : le réglage BODHI_PULL_CONNECTIONS ; 1 : un seul flux)
hub-bad-connections = --connections doit être un nombre entier de 1 à 32, pas { $value }
arg-rm-ref = propriétaire/dépôt, propriétaire/dépôt:QUANT ou propriétaire/dépôt/FICHIER
arg-rm-file = le fichier, quand la référence est propriétaire/dépôt
arg-rm-partials = supprime les fichiers partiels des téléchargements interrompus
arg-rm-yes = ne pas demander de confirmation
