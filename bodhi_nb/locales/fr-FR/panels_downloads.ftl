# La ligne de téléchargement, le panneau pull et le panneau downloads (bodhi_nb/ui, issue 10).
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

arg-panel-pull = lister les fichiers GGUF d'un dépôt du Hub et les télécharger, une ligne en direct chacun
arg-panel-downloads = toutes les demandes de téléchargement : progression en direct, relance, archivage

dl-cancel = Annuler
dl-cancel-tip = Arrêter ce téléchargement ; son fichier partiel est gardé et le prochain pull le reprend
dl-cancelling = annulation…
dl-bytes = { $done } / { $total }
dl-speed = { $speed }/s
dl-eta = reste { $eta }
dl-waiting = en attente…
dl-completed = terminé
dl-cancelled = annulé : Télécharger de nouveau le reprend (le fichier partiel est gardé)
dl-interrupted = interrompu : relancer le pull le reprend (le fichier partiel est gardé)
dl-foreground-hint = pour l'arrêter, interrompez le noyau (■) ; relancer le pull le reprend

pull-panel-title = Télécharger des fichiers GGUF depuis le Hub
pull-repo = Dépôt
pull-repo-placeholder = propriétaire/dépôt, puis Entrée
pull-list = Lister les fichiers
pull-pull = Télécharger
pull-memory = Mémoire disponible : { $size }
pull-memory-unknown = Mémoire disponible : inconnue
pull-fits = tient en mémoire
pull-too-big = plus grand que la mémoire libre
pull-no-files = { $repo } n'a aucun fichier GGUF.
pull-listed = { $count } modèles GGUF dans { $repo }.
pull-started = { $parts ->
    [one] Téléchargement de { $file }.
   *[other] Téléchargement de { $file } ({ $parts } fichiers).
    }
pull-text = Le panneau pull liste les fichiers GGUF d'un dépôt et les télécharge, une ligne en direct chacun (dans un terminal : `{ $prog } pull PROPRIÉTAIRE/DÉPÔT` les liste). Téléchargements jusqu'ici :
col-fits = tient
col-parts = parties

downloads-panel-retry = Relancer
downloads-panel-archive = Archiver
downloads-panel-retried = Nouvelle tentative pour { $file }.
downloads-panel-archived = { $file } archivé.
downloads-panel-live = En cours dans ce noyau
downloads-panel-progress-live = en direct, ci-dessus
downloads-panel-watching = Actualisé toutes les { $seconds } s tant qu'un téléchargement tourne dans un autre noyau.
