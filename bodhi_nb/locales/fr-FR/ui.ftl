# Textes de la couche des commandes et des interfaces (pas les erreurs : voir errors.ftl).
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

## mots communs

ui-none = (aucun)
ui-yes = oui
ui-no = non
ui-not-installed = non installé
ui-interrupted = interrompu
ui-source-override = imposé
ui-source-env = environnement
ui-source-file = fichier
ui-source-default = par défaut

## aide

ui-help-title = { $prog } COMMANDE [ARGUMENTS]
ui-help-hint = `{ $prog } help COMMANDE` montre les arguments d'une commande ; --debug sur n'importe quelle commande affiche la trace d'une erreur.
ui-help-usage = utilisation :
ui-help-positionals = arguments positionnels{" "}
ui-help-options = options{" "}

## état et réglages

ui-status-title = état de bodhi
ui-status-hint = `{ $prog } status --verbose` montre aussi la base de données, son schéma, les services et tous les réglages.
ui-status-hf-cache = cache HF
ui-status-endpoint = Hub utilisé
ui-status-models = modèles
ui-status-models-none = aucun pour l'instant (`{ $prog } help pull`)
ui-status-models-count = { $count } fichier(s) GGUF (`{ $prog } ls`)
ui-status-locale = langue
ui-status-master-key = clé maîtresse
ui-status-database = base de données
ui-status-database-size = taille de la base
ui-status-schema-version = version du schéma
ui-status-schema = { $version } sur { $latest }
ui-status-tables = tables
ui-status-services = services
ui-status-not-available = pas encore disponibles
ui-settings-title = Réglages
ui-settings-now = { $key } = { $value } ({ $source })
ui-settings-saved = { $key } = { $value } (enregistré dans settings.yaml)
ui-settings-shadowed = enregistré dans { $file }, mais la valeur { $value } (source : { $source }) reste prioritaire tant qu'elle n'est pas retirée
ui-settings-unset-key = --unset demande une CLÉ

setting-BODHI_HOME = où bodhi garde sa base de données et ses fichiers
setting-HF_HOME = dossier Hugging Face ; les modèles sont dans $HF_HOME/hub
setting-HF_ENDPOINT = le Hub Hugging Face d'où télécharger
setting-BODHI_PULL_CONNECTIONS = connexions qui téléchargent un gros fichier (64 Mio ou plus) par plages d'octets ; 1 : un seul flux
setting-BODHI_LOCALE = langue des messages
setting-BODHI_LOG_LEVEL = niveau de journalisation
setting-BODHI_KEEP_ALIVE_SECS = secondes pendant lesquelles un serveur de modèle local inactif reste lancé (0 : arrêt après chaque requête, -1 : jamais)
setting-BODHI_DB_BUSY_TIMEOUT_SECS = combien de temps attendre un autre noyau qui tient la base de données
setting-BODHI_DB_IDLE_CLOSE_MS = inactivité après laquelle la base de données est rendue aux autres noyaux
setting-BODHI_LLAMA_SERVER = chemin de llama-server (vide : chercher dans le PATH, puis llama_cpp.server)
setting-BODHI_LLAMACPP_ARGS = arguments supplémentaires du serveur llama.cpp
setting-BODHI_AUTH_URL = URL de base du serveur OpenID
setting-BODHI_AUTH_REALM = domaine (realm) OpenID

## en-têtes de tableaux

col-command = commande
col-what = rôle
col-package = paquet
col-version = version
col-setting = réglage
col-value = valeur
col-source = source
col-meaning = signification
col-item = élément
col-name = nom
col-created = créé le
col-updated = modifié le
col-base_url = URL de base
col-models = modèles
col-prefix = préfixe
col-forward_all = tout transmettre
col-has_api_key = clé d'API
col-check = vérification
col-result = résultat
col-repo = dépôt
col-file = fichier
col-quant = quantif.
col-size = taille
col-arch = archi.
col-context = contexte
col-aliases = alias
col-alias = alias
col-snapshot = instantané
col-request_params = paramètres de requête
col-context_params = paramètres de contexte

## résumés des commandes (`help`)

cmd-help = liste les commandes, ou montre les arguments d'une commande
cmd-version = montre les versions de bodhi_nb et de ses principales dépendances
cmd-status = montre où bodhi garde ses données, le Hub d'où il télécharge et ses modèles
cmd-settings = montre les réglages et leur source, un seul réglage, ou enregistre CLÉ VALEUR dans settings.yaml
cmd-api = API distantes compatibles OpenAI : add (clé demandée sans écho), ls, test, set-key, rm
cmd-chat = discute avec un alias de modèle (GGUF local ou API), en direct ; %%bodhi chat pour les cellules
cmd-history = montre les échanges de discussion enregistrés, les plus récents d'abord
cmd-pull = télécharge un GGUF depuis le Hub Hugging Face (reprise possible, vérifié)
cmd-downloads = liste les demandes de téléchargement ; relance une demande échouée ; en archive une
cmd-rm = supprime des fichiers téléchargés (DÉPÔT : tout le dépôt, DÉPÔT:QUANT, DÉPÔT/FICHIER) ou --partials
cmd-ps = montre le serveur llama.cpp des modèles locaux de ce noyau ; --stop l'arrête
cmd-ls = liste les modèles GGUF du cache Hugging Face local, avec leurs alias
cmd-alias = crée, liste, montre, copie ou supprime des alias de modèles
cmd-secret = enregistre un secret (demandé sans écho), liste ou supprime les secrets, change la clé maîtresse

## aide des arguments (`help COMMANDE`)

arg-json = affiche du JSON
arg-help-topic = un nom de commande
arg-status-verbose = aussi la base de données, son schéma et ses tables, les services et tous les réglages
arg-settings-key = un réglage, par exemple BODHI_LOCALE
arg-settings-value = la nouvelle valeur, enregistrée dans settings.yaml
arg-settings-unset = retire CLÉ de settings.yaml
arg-secret-name = le nom du secret, par exemple HF_TOKEN
arg-api-name = le nom de l'alias, par exemple openai
arg-api-base_url = l'URL de base de l'API, par exemple https://api.openai.com/v1
arg-api-models = identifiants de modèles séparés par des virgules (par défaut : la liste du fournisseur, obtenue avec la clé)
arg-api-prefix = un préfixe qui choisit cet alias, par exemple openai/ (discuter avec openai/gpt-4o-mini)
arg-api-forward_all = transmet tout nom de modèle commençant par --prefix
arg-api-api_key_env = lit la clé dans cette variable d'environnement au lieu de la demander
arg-api-no_api_key = le serveur n'a pas besoin de clé (ne pas la demander)
arg-api-model = api test : le modèle à qui envoyer une courte requête
arg-alias-create = nomme un fichier GGUF : alias create NOM --repo PROPRIÉTAIRE/DÉPÔT --file FICHIER.gguf
arg-alias-create-name = l'alias, par exemple llama3:instruct
arg-alias-create-repo = dépôt Hugging Face
arg-alias-create-file = le fichier .gguf du dépôt
arg-alias-create-revision = branche, étiquette ou commit
arg-alias-create-options = valeur par défaut d'une requête : temperature, top_p, max_tokens, seed, stop, frequency_penalty, presence_penalty, user, system_prompt
arg-alias-create-ctx = option de llama-server, par exemple ctx-size=4096 ou flash-attn
arg-alias-create-format = rendu des réponses (par défaut : Markdown, texte pour un GGUF sans modèle de chat)
arg-alias-create-replace = remplace un alias utilisateur existant du même nom
arg-alias-ls = liste les alias utilisateur, de modèle et d'API
arg-alias-show = montre un alias
arg-alias-copy = copie l'alias NOM vers un nouvel alias utilisateur CIBLE
arg-alias-rm = supprime un alias utilisateur (ou son fichier illisible)

## secret

secret-ls-title = Secrets
secret-ls-empty = (aucun secret enregistré)
secret-removed = Secret { $name } supprimé.
secret-rotated = { $secrets } secret(s) rechiffré(s) ({ $rows } valeurs enregistrées en tout) avec une nouvelle clé maîtresse ({ $source }) ; l'ancienne clé n'est plus utilisée.
secret-prompt = Valeur de { $name } (la saisie est masquée) :
secret-stored = Secret { $name } enregistré (chiffré ; `{ $prog } secret ls` liste les noms).
secret-no-more-words = { $action } ne prend pas d'autres mots (non affichés)
secret-rm-needs-name = rm demande un NOM
secret-set-needs-name = set demande un NOM ; la valeur est demandée à l'invite

## api

api-unknown-options = option(s) inconnue(s) { $options }
api-unknown-options-hidden = option(s) inconnue(s) (non affichées)
api-needs-name = { $action } demande un NOM
api-add-needs-url = add demande --base-url URL
api-removed = Alias d'API { $alias } supprimé, avec sa clé.
api-models-added = { $count } modèle(s) listé(s) par le serveur ajouté(s) ; --models A,B permet d'en choisir.
api-no-key-stored = Aucune clé d'API enregistrée.
api-test-hint = `{ $prog } api test { $alias }` vérifie la clé et un modèle.
api-added = Alias d'API { $alias } ajouté -> { $url } ({ $details }).
api-key-in-clear = { $url } est en http simple vers une autre machine : la clé d'API circulera en clair. Utilisez https, sauf sur un réseau de confiance.
api-ls-title = Alias d'API
api-ls-empty = (aucun alias d'API ; ajoutez-en un avec `{ $prog } api add NOM --base-url URL`)
api-test-title = Alias d'API { $alias } : OK
api-test-key = clé
api-test-key-accepted = acceptée
api-test-key-none = aucune nécessaire
api-test-models = modèles listés
api-test-model = modèle { $model }
api-test-answered = réponse : { $reply }
api-key-stored = Nouvelle clé d'API enregistrée pour { $alias } (chiffrée).
api-key-removed = Clé d'API de { $alias } supprimée.
api-key-options-both = donnez --api-key-env VAR ou --no-api-key, pas les deux
api-key-prompt = Clé d'API pour { $alias } :
api-describe-models = modèles : { $models }
api-describe-prefix = préfixe { $prefix }
api-describe-key = clé d'API enregistrée chiffrée
api-describe-no-key = pas de clé d'API

## ls et alias

models-count = { $count } modèles locaux
models-unreadable = (illisible)
models-title = Modèles locaux dans { $root }
models-empty = (aucun fichier GGUF pour l'instant ; `{ $prog } help pull` explique comment en télécharger un)
models-problems = { $count } fichier(s) illisible(s) comme GGUF ; téléchargez-les de nouveau ou supprimez-les :
alias-bad-option = -o prend CLÉ=VALEUR avec CLÉ parmi { $keys } ; reçu { $item }
alias-expected-int = un nombre entier est attendu
alias-expected-number = un nombre est attendu
alias-bad-ctx = --ctx prend une option de llama-server sous la forme CLÉ=VALEUR ou CLÉ, par exemple ctx-size=4096 ou flash-attn ; reçu { $item }
alias-not-downloaded = { $filename } n'est pas encore téléchargé ; `{ $prog } help pull` explique comment l'obtenir.
alias-not-checked = Impossible de vérifier auprès du Hub que { $repo } contient ce fichier (hors ligne, ou le Hub n'a pas répondu) ; l'alias est tout de même enregistré.
alias-created = alias { $alias } créé -> { $repo } { $filename } @ { $snapshot }
alias-ls-title = Alias
alias-ls-empty = (aucun alias ; `{ $prog } alias create NOM --repo R --file F`)
alias-ls-problems = { $count } fichier(s) d'alias illisible(s) ignoré(s) ; corrigez-les ou supprimez-les (`{ $prog } alias rm NOM` en supprime un) :
alias-copied = alias { $alias } copié vers { $target }
alias-removed = alias { $alias } supprimé ({ $path })
alias-source-user = utilisateur
alias-source-model = modèle
alias-source-api = api

## les plaintes d'argparse (la raison de command_error-bad_arguments)

ui-arg-invalid-choice = { $argument } : « { $value } » n'est pas parmi { $choices }{ $has_suggestion ->
        [yes] {" "}(vouliez-vous dire « { $suggestion } » ?)
       *[no] {""}
    }
ui-arg-required = il manque { $arguments }
ui-arg-unrecognized = mots inattendus : { $arguments }
ui-arg-expected-one = { $argument } demande une valeur
ui-arg-expected-some = { $argument } demande au moins une valeur
ui-arg-invalid-value = { $argument } : { $value } n'est pas un { $type } valide
ui-arg-not-allowed-with = { $argument } ne peut pas être utilisé avec { $other }
ui-arg-one-required = l'un de { $arguments } est requis
ui-arg-ignored-value = { $argument } ne prend pas de valeur (reçu { $value })

## noms des arguments positionnels dans `help COMMANDE`

meta-key = clé
meta-value = valeur
meta-topic = sujet
meta-name = nom
meta-target = cible
meta-ref = référence
meta-file = fichier
meta-alias = alias
meta-prompt = invite
meta-id = id
