# Textes de ce que les services ont gagné pour les panneaux (issue 10) : pulls et chats annulés.
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

hub_service_error-cancelled = Le téléchargement de { $filename } depuis { $repo } a été annulé. Son fichier partiel est conservé : relancez le pull (ou `{ $prog } downloads retry`) pour le reprendre.
# `history` : après la réponse d'un échange que l'utilisateur a arrêté (Stop).
history-stopped = (arrêtée)
