# Échange de jetons RFC 8693 (ticket 13) : le jeton d’accès d’une application tierce échangé contre l’un des nôtres.
# Un message ne contient jamais de jeton.

auth_error-app_token_refused = Le fournisseur d’identité a refusé le jeton d’accès de cette application (révoqué, expiré ou qui n’est pas celui d’un utilisateur). Reconnectez-vous à l’application.
