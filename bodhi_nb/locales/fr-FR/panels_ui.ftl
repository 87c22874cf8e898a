# Les panneaux à widgets (bodhi_nb/ui) et la commande `panel`.

cmd-panel = ouvrir un panneau à widgets (dans un terminal : son tableau)
arg-panel-secrets = secrets enregistrés : définir (sans écho), supprimer, changer la clé maîtresse
arg-panel-models = modèles GGUF locaux : trier, filtrer, nommer, supprimer

panel-filter = filtrer…
panel-page-size = par page
panel-previous = ◀ précédente
panel-next = suivante ▶
panel-page = page { $page } sur { $pages } · { $rows } lignes sur { $total }
panel-no-rows = (rien à afficher)
panel-yes = Oui
panel-no = Non
panel-cancel = Annuler
panel-refresh = Actualiser
panel-delete = Supprimer

panel-secret-name = p. ex. HF_TOKEN
panel-secret-name-label = Nom
panel-secret-value = valeur (jamais affichée)
panel-secret-value-label = Valeur
panel-secret-set = Enregistrer
panel-secret-rotate = Changer la clé
panel-secret-delete-question = Supprimer le secret { $name } ?
panel-secret-rotate-question = Chiffrer à nouveau tous les secrets enregistrés avec une nouvelle clé maîtresse ?

panel-chat = Discuter
panel-alias = Alias
panel-alias-name = nom de l’alias, p. ex. llama3:instruct
panel-alias-create = Créer
panel-alias-for = Alias pour { $repo } { $file } :
panel-model-delete-question = Supprimer { $file } de { $repo } ({ $size }) du cache local ?
panel-model-deleted = { $file } supprimé de { $repo } ; { $size } libérés.
