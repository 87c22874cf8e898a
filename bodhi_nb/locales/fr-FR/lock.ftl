# Fichiers de verrouillage (issue 14) : `lock`, `pull --locked`, et leurs erreurs.

cmd-lock = fige dans bodhi.lock les modèles et alias utilisés par ce notebook (ou ceux nommés) ; `pull --locked` les restaure
arg-lock-names = alias, alias de modèle (propriétaire/dépôt:QUANT) ou propriétaire/dépôt/FICHIER ; aucun : tout ce que ce noyau a utilisé
arg-lock-out = où l'écrire (par défaut : BODHI_LOCK_FILE, ./bodhi.lock)
arg-pull-locked = restaure les fichiers et alias d'un fichier de verrouillage (par défaut : ./bodhi.lock), chacun vérifié par son SHA-256
setting-BODHI_LOCK_FILE = le fichier de verrouillage qu'écrit `lock` et que lisent `pull --locked` et chat (relatif : au dossier de travail, celui du notebook)
col-commit = commit
col-sha256 = SHA-256
col-differs = diffère par

lock-models-title = Modèles
lock-aliases-title = Alias
lock-written = { $path } écrit : { $models ->
        [one] un fichier de modèle
       *[other] { $models } fichiers de modèle
    }, { $aliases ->
        [one] un alias
       *[other] { $aliases } alias
    }.
lock-skipped = { $name } laissé de côté : { $error }
lock-restore-hint = `{ $prog } pull --locked` les restaure sur une autre machine ; tant que ce fichier est dans le dossier de travail, chat avec un alias verrouillé utilise le fichier et les paramètres du verrouillage.
lock-restored-title = Restauré depuis { $path }
lock-status-in-cache = déjà dans le cache, SHA-256 vérifié
lock-status-downloaded = téléchargé, SHA-256 vérifié
lock-status-created = créé
lock-status-same = identique au verrouillage
lock-status-differs = diffère (laissé tel quel)
lock-alias-differs = L'alias local { $alias } diffère du verrouillage par { $fields } ; son fichier est laissé tel quel, et chat dans ce dossier utilise celui du verrouillage. `{ $prog } alias rm { $alias }` puis `{ $prog } pull --locked` les rendent identiques.
lock-pull-no-ref = `pull --locked` restaure un fichier de verrouillage ; n'indiquez pas de modèle avec

lock_error-malformed = { $path } n'est pas un fichier de verrouillage valide : { $key } : { $reason }. Corrigez cette clé, ou réécrivez le fichier avec `{ $prog } lock`.
lock_error-unsupported_version = { $path } est un fichier de verrouillage au format { $version } ; ce bodhi_nb lit le format { $supported }. Mettez bodhi_nb à jour, ou réécrivez le fichier avec `{ $prog } lock`.
lock_error-not_found = Aucun fichier de verrouillage à { $path }. Écrivez-en un avec `{ $prog } lock`, ou nommez-le : `{ $prog } pull --locked CHEMIN`.
lock_error-nothing_used = Ce processus n'a rien téléchargé, aliasé ni utilisé pour discuter : il n'y a rien à verrouiller. Nommez ce qu'il faut verrouiller : `{ $prog } lock ALIAS_OU_MODÈLE ...`.
lock_error-unknown_name = « { $name } » n'est ni un alias ni un modèle téléchargé (propriétaire/dépôt:QUANT ou propriétaire/dépôt/FICHIER). `{ $prog } alias ls` et `{ $prog } ls` les listent.
lock_error-api_alias = « { $name } » est un alias d'API : son modèle est chez le fournisseur et ne peut pas être figé par un fichier de verrouillage. Verrouillez plutôt un alias local.
lock_error-not_downloaded = Impossible de verrouiller « { $name } » : { $repo }/{ $filename } à { $revision } n'est pas dans le cache, il n'a donc ni commit ni SHA-256 à figer. Téléchargez-le d'abord : `{ $prog } pull { $repo } { $filename } --revision { $revision }`.
lock_error-hash_mismatch = { $model } au commit { $commit } ne correspond pas au verrouillage : { $where ->
    [hub] selon le Hub, sa
   *[file] pour le fichier téléchargé, sa
    } { $what ->
    [size] taille est de { $found } octets, le verrouillage indique { $expected }
   *[sha256] somme SHA-256 est { $found }, le verrouillage indique { $expected }
    }. Rien n'a été conservé pour lui : jamais de substitut. Vérifiez la provenance du fichier de verrouillage, ou réécrivez-le avec `{ $prog } lock`.
lock_error-model_missing = { $path } fige l'alias { $alias } sur { $model } au commit { $commit }, qui n'est pas dans le cache. Lancez d'abord `{ $prog } pull --locked` (ou retirez le fichier de verrouillage pour utiliser l'alias local).
lock_error-commit_not_found = Le Hub n'a plus le commit { $commit } pour { $model } : le verrouillage ne peut pas être restauré à l'identique. Rien n'a été téléchargé. Téléchargez une révision actuelle et écrivez un nouveau verrouillage avec `{ $prog } lock`.
