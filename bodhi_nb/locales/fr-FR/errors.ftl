# Messages des erreurs de bodhi_nb. L'identifiant est le code d'erreur ; { $prog } vaut
# `%bodhi` dans un notebook et `bodhi` dans un terminal.

bodhi_error = Erreur inattendue ({ $code }). Relancez la commande avec --debug pour voir la trace.

obj_validation_error-invalid_repo = Format de dépôt invalide « { $value } ». Format attendu : « utilisateur/dépôt ».
obj_validation_error-out_of_range = { $name } doit être compris entre { $min } et { $max }, reçu { $value }.
obj_validation_error-invalid_value = { $name } invalide « { $value } » : { $reason }.
obj_validation_error-invalid_enum = { $name } invalide « { $value } » ; valeurs possibles : { $allowed }.

setting_service_error-unknown_key = Réglage inconnu « { $key } ». Réglages connus : { $known }.
setting_service_error-invalid_value = Le réglage { $key } = « { $value } » n'est pas valide : attendu { $expected }. Corrigez-le avec `{ $prog } settings { $key } VALEUR`.
setting_service_error-read_only = Le réglage { $key } ne peut pas être modifié ici ; définissez-le dans l'environnement avant de démarrer le noyau.
setting_service_error-file_error = Impossible de lire le fichier de réglages { $path } : { $reason }. Corrigez ou supprimez le fichier.

db_error-busy = La base de données { $path } est occupée par le PID { $pid } depuis plus de { $seconds } s. Fermez ou laissez au repos l'autre notebook, puis relancez la commande.
db_error-migration_tampered = La migration { $version } ({ $name }) a été modifiée après avoir été appliquée ; mettez à jour bodhi_nb ou restaurez la base depuis une sauvegarde.
db_error-migration_failed = La migration { $version } ({ $name }) a échoué et a été annulée : { $reason }.
db_error-query_failed = Erreur de base de données : { $reason }.
db_error-not_found = Aucun élément { $table } avec l'identifiant « { $id } ».
db_error-constraint = La base de données a refusé la modification : { $reason }.
db_error-conflict = Un élément { $table } avec l'identifiant « { $id } » existe déjà.

localization_service_error-unsupported_locale = Langue non prise en charge « { $locale } » ; langues disponibles : { $supported }.

app_service_error-service_not_available = Le service { $service } n'est pas encore disponible dans cette version de bodhi_nb.

command_error-unknown_command = Commande inconnue « { $command } ». Commandes : { $commands }.
command_error-bad_arguments = { $command } : { $reason }. Voir `{ $prog } help { $command }`.
command_error-internal = Erreur { $kind } inattendue. Relancez la commande avec --debug pour voir la trace.

## keyring, secrets, sessions (issue 3)

## Hugging Face Hub and downloads (issue 4)

## aliases, GGUF metadata, local models (issue 4)

## chat, API aliases, llama.cpp (issue 5)
