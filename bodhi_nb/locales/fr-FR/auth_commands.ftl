# Commandes d'identité (issue 11) : auth setup, login, whoami, logout, users. Jamais un jeton.

cmd-auth = configurer les connexions de ce déploiement (fournisseur OpenID)
arg-auth-setup = enregistrer ce déploiement auprès d'un fournisseur OpenID (une fois, par un administrateur)
arg-auth-setup-issuer = l'URL d'émetteur du fournisseur
arg-auth-setup-name = le nom que les utilisateurs voient sur la page de consentement du fournisseur
arg-auth-setup-description = une ligne sur ce déploiement
auth-setup-bad-issuer = --issuer doit être l'URL http(s) d'émetteur du fournisseur, par exemple https://id.example.org/realms/team
auth-setup-done = Ce déploiement est enregistré auprès de { $issuer } comme client { $client } ; BODHI_AUTH_ISSUER est enregistré dans settings.yaml.
auth-setup-next = Ensuite : `{ $prog } login` (le premier utilisateur connecté devient administrateur).

cmd-login = se connecter : dans un navigateur sur cette machine, ou avec un code (--device) depuis n'importe où
arg-login-device = afficher un code à saisir sur un autre appareil (noyaux distants)
arg-login-no_browser = seulement afficher l'adresse de connexion, sans ouvrir de navigateur
arg-login-timeout = secondes d'attente du navigateur (300 par défaut)
auth-login-open = Ouvrez cette adresse pour vous connecter (en attente du navigateur) : { $url }
auth-logged-in = Connecté en tant que { $user } (rôle : { $role }).
auth-no-role-yet = Vous n'avez pas encore de rôle dans ce déploiement : demandez-en un à un gestionnaire ou un administrateur.
auth-device-open = Pour vous connecter, ouvrez { $uri }
auth-device-code = et saisissez le code : { $code }
auth-device-complete = (ou ouvrez { $uri }, qui contient le code)
auth-device-waiting = En attente de l'approbation de la connexion (le code expire dans { $minutes } min)…
auth-device-status-waiting = en attente d'approbation…
auth-device-status-done = connecté en tant que { $user } (rôle : { $role })
auth-device-status-failed = non connecté : { $error }
auth-item-username = nom d'utilisateur
auth-item-user-id = identifiant
auth-item-role = rôle
auth-item-issuer = fournisseur
auth-item-client = client
auth-item-profile = profil
auth-item-token-expires = expiration du jeton d'accès

cmd-whoami = qui est connecté : nom, rôle, fournisseur, expiration du jeton d'accès
arg-whoami-refresh = obtenir d'abord de nouveaux jetons (un rôle a changé chez le fournisseur)
auth-off = L'authentification est désactivée (pas de BODHI_AUTH_ISSUER) : vous êtes l'administrateur de cette machine.
auth-whoami-title = Connecté

cmd-logout = se déconnecter : révoquer le jeton de rafraîchissement chez le fournisseur et terminer la session
auth-logged-out = Déconnecté : la session est terminée et son jeton de rafraîchissement révoqué.
auth-nobody-logged-in = Personne n'était connecté.

cmd-users = lister les utilisateurs et leurs rôles, changer un rôle, retirer un utilisateur (gestionnaire ou administrateur)
arg-users-ls = les utilisateurs de ce déploiement et leurs rôles (gestionnaire ou administrateur)
arg-users-ls-page = la page (à partir de 1)
arg-users-ls-page_size = utilisateurs par page
arg-users-set-role = donner un rôle à un utilisateur (au plus le vôtre ; son rôle doit être inférieur au vôtre)
arg-users-set-role-user = nom d'utilisateur ou identifiant
arg-users-set-role-role = user, power_user, manager ou admin
arg-users-remove = retirer à un utilisateur l'accès à ce déploiement
arg-users-remove-user = nom d'utilisateur ou identifiant
arg-users-remove-yes = ne pas demander
auth-users-bad-page = --page doit valoir 1 ou plus et --page-size entre 1 et 100.
auth-users-title = Utilisateurs de { $client } (page { $page } sur { $pages }, { $total } en tout)
col-username = utilisateur
col-role = rôle
col-user_id = identifiant
auth-role-set = { $user } a maintenant le rôle { $role }.
auth-sessions-cleared = Ses sessions ont été effacées : sa prochaine commande lira le nouveau rôle.
auth-remove-confirm = Retirer à { $user } l'accès à ce déploiement ?
auth-remove-needs-yes = Retirer un utilisateur demande -y quand personne ne peut être interrogé.
auth-remove-kept = { $user } garde son accès.
auth-user-removed = { $user } n'a plus accès à ce déploiement ; ses sessions ont été effacées.

ui-status-login = connecté
ui-status-login-off = authentification désactivée
ui-status-login-nobody = personne (`{ $prog } login`)
ui-status-login-user = { $user } ({ $role }, profil { $profile })
ui-status-models-login = connectez-vous pour les voir (`{ $prog } login`)
