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
data_service_error-alias_exists = Un alias nommé « { $alias } » existe déjà. Choisissez un autre nom, ou supprimez-le d'abord avec `{ $prog } alias rm { $alias }`.
data_service_error-alias_not_found = Aucun alias nommé « { $alias } ». `{ $prog } alias ls` liste les alias.
data_service_error-alias_file_conflict = L'alias « { $alias } » serait enregistré dans { $path }, qui contient déjà l'alias « { $other } ». Choisissez un nom qui diffère par autre chose que des espaces ou les caractères : < > " / \ | ? *.
data_service_error-invalid_alias_name = « { $alias } » ne peut pas servir de nom d'alias : { $reason }. Utilisez des lettres, des chiffres et - _ . : /
data_service_error-alias_file = Impossible d'utiliser le fichier d'alias { $path } : { $reason }. Corrigez ou supprimez le fichier, puis relancez la commande.
data_service_error-gguf_invalid = { $path } n'est pas un fichier de modèle GGUF lisible : { $reason }. Téléchargez-le à nouveau (`{ $prog } help pull`) ou supprimez-le.
data_service_error-quant_not_found = Aucun fichier .gguf avec la quantification « { $quant } ». Quantifications disponibles : { $available }.
data_service_error-quant_ambiguous = La quantification « { $quant } » correspond à plusieurs fichiers : { $candidates }. Indiquez le fichier plutôt que la quantification.
data_service_error-local_file_not_found = { $filename } de { $repo } (révision { $revision }) n'est pas dans le cache Hugging Face local. Téléchargez-le d'abord (`{ $prog } help pull`) ; `{ $prog } ls` liste les modèles locaux.
data_service_error-invalid_local_filename = Nom de fichier invalide « { $filename } » : { $reason }. Donnez un chemin à l'intérieur du dépôt, sans « .. » ni « \ ».
data_service_error-invalid_local_revision = Révision invalide « { $revision } » : { $reason }. Donnez une branche, une étiquette ou un hash de commit comme « main ».

## chat, API aliases, llama.cpp (issue 5)
