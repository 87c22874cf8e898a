# Ce que `chat` affiche en plus de la réponse. { $prog } vaut `%bodhi` dans un notebook et
# `bodhi` dans un terminal.

chat-server-starting = démarrage du serveur de modèle pour { $alias }… { $seconds } s
chat-server-started = serveur de modèle pour { $alias } prêt en { $seconds } s
chat-template-fallback = Remarque : { $file } n'a pas de modèle de conversation (c'est un modèle de base, qui prolonge le texte) ; { $alias } présente donc les requêtes sous la forme « ### Instruction: … » (le format { $format } de llama.cpp) et affiche les réponses en texte brut. Pour choisir un autre format, créez un alias : `{ $prog } alias create NOM --repo { $repo } --file { $file } --ctx chat_format=FORMAT`.
chat-empty-length = (réponse vide : motif d'arrêt length, { $tokens } jetons — la limite de jetons a été atteinte avant tout texte. Augmentez-la, par exemple `-o max_tokens=256`.)
chat-empty-stop = (réponse vide : motif d'arrêt { $finish }, { $tokens } jetons — le modèle a terminé son tour aussitôt. Si { $alias } a des séquences d'arrêt, vérifiez que la réponse ne commence pas par l'une d'elles (`{ $prog } alias show { $alias }`), ou essayez `-o temperature=0.7`.)
chat-empty-base-model = (réponse vide : motif d'arrêt { $finish }, { $tokens } jetons — { $alias } utilise un modèle de base, qui a terminé sa réponse aussitôt avec le format de conversation de l'alias. Vérifiez ses séquences d'arrêt (`{ $prog } alias show { $alias }`), ou utilisez le format de llama.cpp adapté à la complétion : `--ctx chat_format=alpaca`.)

# La ligne de résumé après une réponse.
chat-summary-tokens = { $tokens } jetons
chat-summary-first-token = premier jeton { $ms } ms
chat-summary-server-start = (démarrage du serveur de modèle { $ms } ms)
chat-summary-total = total { $ms } ms
chat-summary-thread = fil { $thread }

# ps : le serveur llama.cpp de ce noyau.
ps-title = Serveurs llama.cpp de ce noyau
ps-none = (aucun serveur de modèle local en marche ; `{ $prog } chat ALIAS ...` en démarre un)
ps-stopped = Serveur llama.cpp de { $names } arrêté.
ps-stopped-none = Aucun serveur de modèle local ne tournait.
ps-state-starting = démarrage
ps-state-busy = occupé
ps-state-idle = inactif

# chat et history : ce qui est refusé, et le tableau de l'historique (issue 8, point 26).
chat-prompt-twice = donnez l'invite dans le corps de la cellule ou sur la ligne, pas les deux
chat-prompt-empty = l'invite est vide
chat-reset-needs-thread = --reset demande --thread NOM
chat-out-needs-notebook = --out demande un notebook
history-n-too-small = -n doit valoir au moins 1
history-title = Historique des conversations
history-empty = (aucune conversation enregistrée pour l'instant)

# En-têtes de tableau et aide des arguments de chat, history et ps.
col-when = quand
col-thread = fil
col-prompt = invite
col-answer = réponse
col-tokens = jetons
col-total = total
col-pid = pid
col-port = port
col-state = état
col-uptime = en marche depuis
col-idle = inactif depuis
col-model_file = fichier du modèle
arg-chat-alias = un alias de modèle, propriétaire/dépôt:QUANT, ou préfixe/modèle
arg-chat-prompt = l'invite (ou le corps de la cellule)
arg-chat-system = une invite système
arg-chat-option = paramètre de requête, par exemple -o temperature=0 -o seed=7
arg-chat-format = rendu de la réponse (auto : Markdown, texte brut pour un modèle de base sans modèle de conversation)
arg-chat-out = affecte le texte de la réponse à VAR
arg-chat-thread = poursuit la conversation NOM
arg-chat-new = démarre un nouveau fil nommé
arg-chat-reset = avec --thread : reprend NOM de zéro (les échanges précédents restent dans l'historique mais ne sont pas envoyés), pour qu'un notebook relancé donne les mêmes réponses
arg-chat-no_stream = attend la réponse complète
arg-chat-no_log = ne l'enregistre pas dans l'historique
arg-chat-no_interpolate = envoie les {"{"}accolades{"}"} telles quelles
arg-history-n = combien d'échanges
arg-history-thread = seulement ce fil
arg-history-q = seulement les échanges contenant TEXTE
arg-ps-stop = arrête le serveur maintenant (le prochain chat le redémarre)
