# Le panneau de conversation (bodhi_nb/ui/chat_panel.py) et `panel chat`.
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

arg-panel-chat = converser avec un alias : fils de l'historique, réponse affichée en Markdown au fil de l'eau, Arrêter
arg-panel-chat-alias = l'alias avec qui converser (un alias de modèle, owner/repo:QUANT, ou un alias d'API)

chat-panel-alias = Alias
chat-panel-api-alias = { $alias } (API)
chat-panel-thread = Fil
chat-panel-new-thread = nouveau fil
chat-panel-thread-option = { $thread } · { $alias } · { $exchanges ->
    [one] { $exchanges } échange
   *[other] { $exchanges } échanges
    }
chat-panel-thread-new = nouveau fil { $thread }
chat-panel-thread-shown = fil { $thread }
chat-panel-temperature = température
chat-panel-max-tokens = jetons max
chat-panel-seed = graine
chat-panel-default = par défaut
chat-panel-prompt = Posez une question… (Entrée envoie)
chat-panel-send = Envoyer
chat-panel-stop = Arrêter
chat-panel-you = Vous
chat-panel-stopped = arrêtée
chat-panel-stopping = arrêt…

command_error-no_alias_chosen = Aucun alias avec qui converser : choisissez-en un dans la liste Alias, ou créez-en un (`{ $prog } pull OWNER/REPO:QUANT` pour un modèle local, `{ $prog } api add` pour une API).
command_error-no_alias_for_file = Aucun alias ne sert { $filename } de { $repo } (un projecteur de vision ou une partie non initiale d'un modèle découpé n'en a pas) : créez-en un d'abord, avec Alias sur sa ligne ou `{ $prog } alias create NOM --repo { $repo } --file { $filename }`.
