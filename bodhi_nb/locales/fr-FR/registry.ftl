# Le registre (bodhi_nb.app) et les mots de la couche des commandes (issue 9).
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

app_service_error-overrides_conflict = Le registre de { $home } a déjà été construit avec d'autres réglages ({ $keys }). Lancez d'abord `from bodhi_nb.app import reset_apps; reset_apps()`, ou construisez votre propre registre avec `build_app_service` de `bodhi_nb.app`.

# Les verbes des groupes de commandes (`help api`, `help secret`, `help downloads`).
arg-api-add = ajouter une API distante : api add NOM --base-url URL (la clé est demandée sans écho)
arg-api-ls = lister les alias d'API
arg-api-test = vérifier la clé d'un alias d'API, et un modèle avec une courte requête
arg-api-set-key = remplacer (ou retirer) la clé d'un alias d'API
arg-api-rm = supprimer un alias d'API et sa clé
arg-secret-set = enregistrer un secret : sa valeur est demandée à l'invite, sans écho
arg-secret-ls = lister les secrets enregistrés (noms et dates, jamais les valeurs)
arg-secret-rm = supprimer un secret
arg-secret-rotate-key = chiffrer à nouveau chaque secret enregistré sous une nouvelle clé maîtresse
arg-downloads-ls = lister les demandes de téléchargement (par défaut)
arg-downloads-retry = télécharger à nouveau une demande échouée ou interrompue
arg-downloads-archive = masquer une demande de la liste (--all la montre encore)
arg-downloads-id = l'identifiant de la demande de téléchargement
arg-downloads-all = inclure les demandes archivées
arg-downloads-background = réessayer en arrière-plan
