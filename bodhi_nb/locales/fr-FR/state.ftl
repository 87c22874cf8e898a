# État persistant : settings.yaml, BODHI_HOME, la base de données, les téléchargements
# (ticket 8). { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

setting_service_error-unwritable_file = Impossible d'écrire le fichier de réglages { $path } : { $reason }. Rendez son dossier accessible en écriture, ou faites pointer BODHI_HOME vers un dossier à vous.
db_error-home_not_a_directory = BODHI_HOME { $path } n'est pas un dossier. Déplacez ce fichier, ou définissez BODHI_HOME sur un dossier avant de démarrer le noyau.
db_error-home_not_writable = Impossible d'écrire dans BODHI_HOME { $path } : { $reason }. Rendez-le accessible en écriture (`chmod u+rwx { $path }`), ou définissez BODHI_HOME sur un dossier à vous.
db_error-corrupt = La base de données { $path } est endommagée ou n'est pas un fichier DuckDB ({ $reason }). Mettez-la de côté (`mv { $path } { $path }.broken`) ; la prochaine commande en crée une nouvelle.

downloads-interrupted = interrompu ; `{ $prog } downloads retry { $id }` le reprend
settings-moved-aside = Le fichier de réglages illisible a été déplacé vers { $path } ; le nouveau settings.yaml ne contient que ce réglage.
settings-ignored = { $key } dans settings.yaml est ignoré (valeur par défaut utilisée) : { $reason }
downloads-title = Demandes de téléchargement
downloads-empty = (aucun téléchargement pour l'instant)
downloads-needs-id = { $action } demande un identifiant
downloads-state-pending = en attente
downloads-state-completed = terminé
downloads-state-error = erreur
downloads-state-interrupted = interrompu
downloads-state-running = { $state } (en cours)
col-progress = progression
col-started = commencé
col-error = erreur

keyring-created-in-keyring = Nouvelle clé maîtresse créée dans le trousseau ({ $backend }, service '{ $service }', entrée '{ $entry }').
keyring-created-key-file = Nouvelle clé maîtresse créée dans le fichier { $path } (mode 0600 ; pas de trousseau système sur cette machine). Conservez-la et sauvegardez-la : sans elle, les secrets enregistrés sont illisibles.

# Where the master key lives (status, secret rotate-key).
keysrc-env = { $name }
keysrc-keyring = trousseau ({ $backend })
keysrc-file = fichier de clé ({ $path })
keysrc-unusable = inutilisable ({ $reason })
keysrc-missing = introuvable (clé { $key_id })
keysrc-none-yet = pas encore (le premier `{ $prog } secret set` la crée)
keysrc-none-yet-keyring = pas encore (le premier `{ $prog } secret set` la crée dans le trousseau ({ $backend }))
keysrc-none-yet-file = pas encore (le premier `{ $prog } secret set` la crée dans le fichier de clé { $path })
