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
