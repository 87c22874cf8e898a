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
