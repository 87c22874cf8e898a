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
setting_service_error-unreadable_file = Impossible de lire le fichier de réglages { $path } : { $reason }. Corrigez ou supprimez le fichier.

db_error-busy = La base de données { $path } est occupée par le PID { $pid } depuis plus de { $seconds } s. Fermez ou laissez au repos l'autre notebook, puis relancez la commande.
db_error-migration_tampered = La migration { $version } ({ $name }) a été modifiée après avoir été appliquée ; mettez à jour bodhi_nb ou restaurez la base depuis une sauvegarde.
db_error-migration_failed = La migration { $version } ({ $name }) a échoué et a été annulée : { $reason }.
db_error-query_failed = Erreur de base de données : { $reason }.
db_error-not_found = Aucun élément { $table } avec l'identifiant « { $id } ».
db_error-constraint = La base de données a refusé la modification : { $reason }.
db_error-conflict = Un élément { $table } avec l'identifiant « { $id } » existe déjà.

localization_service_error-unsupported_locale = Langue non prise en charge « { $locale } » ; langues disponibles : { $supported }.

app_service_error-service_not_available = Le service { $service } n'est pas encore disponible dans cette version de bodhi_nb.

command_error-unknown_command = Commande inconnue « { $command } ». { $has_suggestion ->
        [yes] Vouliez-vous dire `{ $prog } { $suggestion }` ? `{ $prog } help` liste les commandes.
       *[no] Commandes : { $commands }.
    }
command_error-bad_arguments = { $command } : { $reason }. Voir `{ $prog } help { $command }`.
command_error-internal = Erreur { $kind } inattendue. Relancez la commande avec --debug pour voir la trace.
command_error-ambiguous_id = « { $id } » correspond à plusieurs identifiants : { $matches }. Tapez davantage de caractères de l'identifiant.
command_error-no_space = Plus d'espace libre sur le disque de { $path } ({ $reason }). Libérez de la place (`{ $prog } rm --partials` supprime les téléchargements inachevés), puis relancez la commande.
command_error-permission_denied = Impossible d'écrire { $path } : { $reason }. Rendez-le accessible en écriture à votre utilisateur, ou faites pointer BODHI_HOME ou HF_HOME vers un dossier qui vous appartient (`{ $prog } settings`).
command_error-not_a_folder = { $path } est un fichier là où un dossier est attendu ({ $reason }). Déplacez ou supprimez ce fichier, ou corrigez le réglage qui le désigne (`{ $prog } settings`).
command_error-is_a_folder = { $path } est un dossier là où un fichier est attendu ({ $reason }). Déplacez ou supprimez ce dossier, puis relancez la commande.
command_error-path_not_found = { $path } n'existe pas ({ $reason }). Créez-le, ou corrigez le réglage qui le désigne (`{ $prog } settings`).
command_error-os = Le système a refusé une opération sur { $path } : { $reason } ({ $kind }). Corrigez cette cause, puis relancez la commande ; --debug affiche la trace.

## keyring, secrets, sessions (issue 3)

keyring_error-unavailable = Aucun trousseau utilisable sur cette machine ({ $reason }). bodhi garde sa clé maîtresse dans un fichier de clé ; définissez BODHI_ENCRYPTION_KEY (20 caractères ou plus) pour choisir la clé vous-même.
keyring_error-backend_failed = Le trousseau { $backend } a échoué : { $reason }. Déverrouillez le trousseau et réessayez, ou définissez BODHI_ENCRYPTION_KEY (20 caractères ou plus) pour utiliser votre propre clé.
keyring_error-env_key_too_short = BODHI_ENCRYPTION_KEY a { $length } caractères ; il en faut au moins { $min }. Définissez une valeur plus longue (un gestionnaire de mots de passe peut la générer), ou supprimez-la pour utiliser le trousseau ou le fichier de clé.
keyring_error-env_key_placeholder = BODHI_ENCRYPTION_KEY contient encore la valeur d'exemple de la documentation. Définissez une valeur aléatoire de 20 caractères ou plus.
keyring_error-env_key_rotation = La clé maîtresse vient de BODHI_ENCRYPTION_KEY, que bodhi ne peut pas modifier. Pour la changer, mettez l'ancienne valeur dans BODHI_ENCRYPTION_KEY_PREVIOUS et une nouvelle dans BODHI_ENCRYPTION_KEY, puis relancez `{ $prog } secret rotate-key`.
keyring_error-key_file_insecure = Le fichier de clé { $path } est lisible par d'autres utilisateurs (mode { $mode }). Corrigez-le avec `chmod 600 { $path }`, et changez la clé avec `{ $prog } secret rotate-key` si d'autres ont pu la lire.
keyring_error-key_file_invalid = Le fichier de clé { $path } n'est pas un fichier de clé bodhi ({ $reason }). Restaurez-le depuis une sauvegarde ; s'il est perdu, supprimez-le et enregistrez de nouveau vos secrets avec `{ $prog } secret set NOM`.
keyring_error-key_file_access = Impossible d'utiliser le fichier de clé { $path } : { $reason }. Vérifiez les droits du dossier, ou définissez BODHI_ENCRYPTION_KEY (20 caractères ou plus).
keyring_error-key_file_inside_home = Le fichier de clé { $path } serait dans BODHI_HOME ({ $home }), à côté des secrets qu'il protège. Faites pointer XDG_CONFIG_HOME ailleurs ou définissez BODHI_ENCRYPTION_KEY.

secret_error-decrypt_failed = Impossible de déchiffrer le secret « { $name } » : clé maîtresse erronée ou secret corrompu. Si BODHI_ENCRYPTION_KEY ou le fichier de clé a changé, restaurez l'ancienne clé ; sinon supprimez le secret avec `{ $prog } secret rm { $name }` et enregistrez-le de nouveau.
secret_error-malformed_envelope = Le secret « { $name } » est stocké sous une forme endommagée ({ $reason }). Supprimez-le avec `{ $prog } secret rm { $name }` et enregistrez-le de nouveau.
secret_error-unsupported_envelope = Le secret « { $name } » est stocké au format « { $version } », que cette version de bodhi_nb ne sait pas lire. Mettez à jour bodhi_nb, ou recréez-le avec `{ $prog } secret rm { $name }` puis `{ $prog } secret set { $name }`.
secret_error-master_key_missing = La clé maîtresse qui a chiffré les secrets (identifiant { $key_id }) est introuvable : ni dans BODHI_ENCRYPTION_KEY, ni dans le trousseau, ni dans le fichier de clé. Restaurez-la ; si elle est perdue, supprimez chaque secret avec `{ $prog } secret rm NOM` et enregistrez-les de nouveau.
secret_error-not_found = Aucun secret nommé « { $name } ». `{ $prog } secret ls` liste les secrets enregistrés.
secret_error-invalid_name = Nom de secret invalide « { $name } » : utilisez lettres, chiffres, « _ », « . » ou « - », en commençant par une lettre ou « _ » (128 caractères au plus), par exemple HF_TOKEN.
secret_error-value_on_command_line = Une valeur secrète n'est jamais acceptée sur la ligne de commande : elle serait enregistrée dans le notebook et dans l'historique. Lancez `{ $prog } secret set { $name }` et saisissez la valeur à l'invite. Si vous avez tapé une vraie valeur, révoquez-la : elle est maintenant dans votre historique.
secret_error-empty_value = Aucune valeur saisie pour « { $name } » ; rien n'a été enregistré. Relancez `{ $prog } secret set { $name }` et saisissez la valeur à l'invite.
secret_error-no_prompt = Impossible de demander la valeur de « { $name } » ici : aucune invite disponible. Lancez `bodhi secret set { $name }` dans un terminal, ou `{ $prog } secret set { $name }` dans un notebook.

session_error-not_found = Session inconnue : elle a été fermée ou remplacée. Reconnectez-vous avec `{ $prog } login`.
session_error-expired = La session a expiré. Reconnectez-vous avec `{ $prog } login`.
session_error-invalid_data = Les données de session doivent être du JSON (texte, nombres, listes, dictionnaires) : { $reason }.

## Hugging Face Hub and downloads (issue 4)

hub_service_error-invalid_reference = Impossible de lire la référence de modèle « { $value } » : { $reason }. Utilisez owner/repo FICHIER, owner/repo:QUANT ou hf://owner/repo/FICHIER.
hub_service_error-gated_no_token = { $repo } est un dépôt à accès restreint. Demandez l'accès sur { $url }, puis enregistrez votre jeton avec `{ $prog } secret set HF_TOKEN`.
hub_service_error-gated_access = Votre jeton Hugging Face n'a pas encore accès au dépôt restreint { $repo }. Demandez l'accès sur { $url } et attendez l'approbation.
hub_service_error-may_not_exist = Dépôt { $repo } introuvable. Vérifiez le nom ; s'il est privé, enregistrez un jeton avec `{ $prog } secret set HF_TOKEN`.
hub_service_error-repo_not_found = Dépôt { $repo } introuvable, ou invisible pour votre jeton. Vérifiez le nom et les droits du jeton.
hub_service_error-revision_not_found = La révision « { $revision } » n'existe pas dans { $repo }. Utilisez une branche, une étiquette ou un commit du dépôt (par défaut : main).
hub_service_error-remote_file_not_found = Le fichier « { $filename } » n'existe pas dans { $repo } à la révision { $revision }. `{ $prog } pull { $repo }` liste les fichiers GGUF du dépôt.
hub_service_error-invalid_token = Le Hub Hugging Face a refusé le jeton venant de { $source }. Remplacez-le avec `{ $prog } secret set HF_TOKEN`, ou retirez HF_TOKEN.
hub_service_error-rate_limited = Le Hub Hugging Face limite le débit des requêtes ; réessayez dans { $retry_after } s.
hub_service_error-transport = Impossible de joindre { $endpoint } : { $reason }. Vérifiez le réseau (ou HF_ENDPOINT), puis relancez le même pull : il reprendra là où il s'est arrêté.
hub_service_error-unknown_hub = Le Hub Hugging Face a répondu HTTP { $status } pour { $url }. Réessayez plus tard.
hub_service_error-checksum_mismatch = Le téléchargement de { $filename } depuis { $repo } ne correspond pas à sa somme de contrôle même après un nouveau téléchargement (attendu { $expected }, obtenu { $actual }) ; rien n'a été conservé. Réessayez plus tard.
hub_service_error-download_not_found = Aucune demande de téléchargement avec l'identifiant « { $id } ». `{ $prog } downloads` les liste.
hub_service_error-download_active = Le téléchargement { $id } est en cours ; attendez qu'il se termine avant de l'archiver.
hub_service_error-download_not_failed = Le téléchargement { $id } est { $status } ; seul un téléchargement en erreur peut être relancé.
hub_service_error-url_expired = Le lien de téléchargement de { $filename } a expiré à chaque fois (HTTP { $status }), même après en avoir demandé un nouveau au Hub. Vérifiez l'horloge de l'ordinateur, puis relancez le même pull : il reprendra.
hub_service_error-remote_file_changed = { $filename } dans { $repo } a changé sur le Hub pendant le téléchargement. Relancez le même pull pour télécharger la nouvelle version.

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

local_llm_service_error-runtime_missing = Aucun moteur llama.cpp pour les modèles locaux : llama-server n'est pas dans le PATH et le module Python { $module } est absent. Installez-le avec `pip install 'bodhi_nb[local]'`, ou indiquez un binaire llama-server dans BODHI_LLAMA_SERVER (`{ $prog } settings BODHI_LLAMA_SERVER /chemin/vers/llama-server`).
local_llm_service_error-server_binary_not_found = BODHI_LLAMA_SERVER vaut « { $path } », qui n'est pas un exécutable. Corrigez-le avec `{ $prog } settings BODHI_LLAMA_SERVER /chemin/vers/llama-server`, ou donnez-lui la valeur llama_cpp.server pour utiliser `pip install 'bodhi_nb[local]'`.
local_llm_service_error-invalid_server_args = Les arguments du serveur llama.cpp venant de { $source } sont inutilisables (« { $value } ») : { $reason }. Écrivez-les comme des options, par exemple --ctx-size 4096 (`{ $prog } settings BODHI_LLAMACPP_ARGS '...'`, ou --ctx de l'alias).
local_llm_service_error-model_file_missing = Le fichier de modèle de l'alias { $alias } est introuvable : { $path }. Téléchargez-le à nouveau (`{ $prog } help pull`) ou corrigez l'alias.
local_llm_service_error-start_failed = Le serveur llama.cpp de { $alias } s'est arrêté avant d'être prêt (code de sortie { $exit_code }). Vérifiez que le fichier est un GGUF valide et les paramètres de contexte de l'alias ; journal complet : { $log }. Dernières lignes : { $stderr_tail }
local_llm_service_error-start_timeout = Le serveur llama.cpp de { $alias } n'était pas prêt après { $seconds } s et a été arrêté. La machine est peut-être occupée ou le modèle trop gros ; journal complet : { $log }. Dernières lignes : { $stderr_tail }

ai_api_service_error-unreachable = Impossible de joindre l'API derrière { $alias } à { $url } : { $reason }. Vérifiez l'URL et le réseau ; derrière un proxy, définissez HTTPS_PROXY (et NO_PROXY pour les serveurs locaux), et pour une autorité de certification privée, SSL_CERT_FILE.
ai_api_service_error-unauthorized = L'API derrière { $alias } a refusé la clé d'API (HTTP { $status }). Remplacez-la avec `{ $prog } api set-key { $alias }` (la clé est demandée à l'invite), puis vérifiez-la avec `{ $prog } api test { $alias }`.
ai_api_service_error-model_not_found = L'API derrière { $alias } ne sert pas le modèle « { $model } » (HTTP 404). `{ $prog } api test { $alias }` liste les modèles qu'elle sert ; vérifiez aussi que l'URL de base se termine par /v1.
ai_api_service_error-endpoint_not_found = { $url } n'existe pas (HTTP 404) : l'URL de base de { $alias } est fausse. Les URL de base compatibles OpenAI se terminent en général par /v1 : supprimez l'alias avec `{ $prog } api rm { $alias }` et ajoutez-le à nouveau.
ai_api_service_error-rate_limited = L'API derrière { $alias } limite le débit des requêtes (HTTP 429, Retry-After : { $retry_after }). Attendez ce délai puis réessayez ; si cela se répète, vérifiez le quota de la clé d'API.
ai_api_service_error-context_too_long = La conversation est trop longue pour la fenêtre de contexte de { $model } ({ $alias }) : { $reason }. Commencez un nouveau fil, raccourcissez le message ou réduisez max_tokens.
ai_api_service_error-request_rejected = L'API derrière { $alias } a refusé la requête (HTTP { $status }) : { $reason }. Corrigez les paramètres cités dans le message et réessayez.
ai_api_service_error-upstream_failed = L'API derrière { $alias } a échoué avec HTTP { $status } ({ $url }). Le problème vient du serveur : réessayez plus tard.
ai_api_service_error-stream_interrupted = La réponse de { $alias } a été coupée après { $received } caractères : { $reason }. La réponse partielle n'a pas été enregistrée ; relancez la même conversation.
ai_api_service_error-bad_response = L'API derrière { $alias } a envoyé une réponse illisible ({ $url } : { $reason }). Vérifiez que l'URL de base désigne une API compatible OpenAI (se terminant en général par /v1).
ai_api_service_error-alias_exists = Un alias d'API nommé « { $alias } » existe déjà. Choisissez un autre nom, ou supprimez-le d'abord avec `{ $prog } api rm { $alias }`.
ai_api_service_error-alias_not_found = Aucun alias d'API nommé « { $alias } ». `{ $prog } api ls` les liste.
ai_api_service_error-prefix_exists = Le préfixe « { $prefix } » est déjà utilisé par l'alias d'API « { $alias } ». Choisissez un autre --prefix, ou supprimez cet alias avec `{ $prog } api rm { $alias }`.
ai_api_service_error-invalid_base_url = URL de base invalide « { $url } » : { $reason }. Donnez une URL http:// ou https:// comme https://api.openai.com/v1.
ai_api_service_error-unsupported_api_format = L'alias d'API { $alias } utilise le format « { $format } », avec lequel bodhi ne sait pas converser ; formats pris en charge : { $supported }.
ai_api_service_error-api_key_on_command_line = Les clés d'API ne sont jamais acceptées sur la ligne de commande : elles seraient enregistrées dans le notebook et l'historique du shell. Lancez `{ $prog } api add { $alias } --base-url URL` et saisissez la clé à l'invite, ou passez --api-key-env VAR. Si vous avez tapé une vraie clé, révoquez-la : elle est maintenant dans votre historique.
ai_api_service_error-api_key_env_missing = La variable d'environnement { $var } indiquée par --api-key-env n'est pas définie ou est vide. Définissez-la avant de démarrer le noyau, ou omettez --api-key-env pour saisir la clé à l'invite.
ai_api_service_error-api_key_no_prompt = Impossible de demander la clé d'API de « { $alias } » ici : il n'y a pas d'invite. Passez --api-key-env VAR avec une variable d'environnement qui contient la clé, ou --no-api-key pour un serveur sans clé.

## chat orchestration and history (issue 5)

chat_service_error-model_not_downloaded = L'alias { $alias } désigne { $repo } { $filename }, qui n'est pas téléchargé. Lancez d'abord `{ $prog } pull { $repo } { $filename }`.
chat_service_error-no_model = L'alias d'API { $alias } ne sert aucun modèle de ce nom. Utilisez PRÉFIXE/MODÈLE, ou listez ses modèles avec `{ $prog } api ls`.
chat_service_error-bad_param = Le paramètre de requête { $name } = « { $value } » n'est pas valide : { $reason }. Écrivez-le `-o { $name }=VALEUR`.
