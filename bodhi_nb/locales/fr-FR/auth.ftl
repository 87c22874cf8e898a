# Identité (issue 11) : connexion OpenID, jetons et rôles. Un message ne contient jamais de jeton.

auth_error-token_malformed = Le jeton d’accès n’est pas un jeton signé lisible par ce déploiement. Reconnectez-vous : `{ $prog } login`.
auth_error-token_algorithm = Le jeton d’accès est signé avec { $alg }, qui n’est pas autorisé (seuls RS256, PS256 et ES256 le sont). Reconnectez-vous : `{ $prog } login`.
auth_error-token_unknown_key = Le jeton d’accès a été signé avec une clé que le fournisseur ne publie pas. Reconnectez-vous : `{ $prog } login`.
auth_error-token_signature = La signature du jeton d’accès n’est pas valide. Reconnectez-vous : `{ $prog } login`.
auth_error-token_issuer = Le jeton d’accès vient d’un autre fournisseur que { $expected }. Reconnectez-vous : `{ $prog } login`.
auth_error-token_audience = Le jeton d’accès n’est pas destiné à ce déploiement (client { $client }). Reconnectez-vous : `{ $prog } login`.
auth_error-token_expired = Le jeton d’accès a expiré. Reconnectez-vous : `{ $prog } login`.
auth_error-token_not_yet_valid = Le jeton d’accès n’est pas encore valide ; vérifiez l’horloge de cette machine.
auth_error-jwks_unavailable = Les clés de signature du fournisseur n’ont pas pu être lues ({ $reason }). Vérifiez `BODHI_AUTH_ISSUER` et que le fournisseur est joignable.

# Le client HTTP du fournisseur (bodhi_nb.services.oidc_client). Jamais de jeton ni de secret.
auth_error-issuer_not_set = Aucun fournisseur OpenID n’est configuré : indiquez l’URL de l’émetteur dans `BODHI_AUTH_ISSUER`.
auth_error-issuer_unreachable = Le fournisseur OpenID { $issuer } est injoignable ({ $reason }). Vérifiez `BODHI_AUTH_ISSUER` et le réseau.
auth_error-discovery_broken = Le fournisseur OpenID { $issuer } ne publie pas de configuration utilisable ({ $reason }). Vérifiez `BODHI_AUTH_ISSUER`.
auth_error-invalid_client = Le fournisseur n’accepte pas l’identifiant et le secret client de ce déploiement ({ $endpoint }). Le client a peut-être été supprimé ou son secret changé.
auth_error-login_again = La connexion n’est plus valide ({ $endpoint }). Reconnectez-vous : `{ $prog } login`.
auth_error-access_denied = La connexion a été refusée sur la page du fournisseur.
auth_error-device_expired = Le code a expiré avant que la connexion soit approuvée. Recommencez : `{ $prog } login`.
auth_error-cancelled = La connexion a été annulée.
auth_error-provider_unavailable = Le fournisseur OpenID est indisponible ({ $endpoint } : { $reason }). Réessayez plus tard.
auth_error-provider_refused = Le fournisseur OpenID a refusé la requête ({ $endpoint } : { $error }).
auth_error-forbidden = Votre rôle ne permet pas cette action ({ $endpoint }).
auth_error-conflict = Le fournisseur a refusé une modification en conflit ({ $endpoint }) : par exemple, la ressource a déjà un administrateur.

# Les connexions et les sessions (bodhi_nb.services.auth). Jamais un jeton ni un secret.
auth_error-not_set_up = Ce déploiement n'est pas encore enregistré auprès du fournisseur OpenID : un administrateur lance `{ $prog } auth setup --issuer URL --name NOM`.
auth_error-state_mismatch = La réponse de connexion ne correspond pas à la connexion commencée (state différent) : elle a été refusée. Recommencez la connexion.
auth_error-login_required = Il faut être connecté : lancez `{ $prog } login` (ou `{ $prog } login --device` sur un noyau distant).
auth_error-insufficient_role = Cette action demande le rôle { $needed } ou plus ; le vôtre est { $have }. Demandez à un gestionnaire ou un administrateur : `{ $prog } users set-role UTILISATEUR RÔLE`.
setting-BODHI_AUTH_ISSUER = URL de l'émetteur du fournisseur OpenID (vide : authentification désactivée)
setting-BODHI_PROFILE = nom du profil de connexion (un utilisateur connecté par profil et par BODHI_HOME)
auth_error-login_timeout = Le navigateur n'est pas revenu de la page de connexion en { $seconds } s. Recommencez la connexion.
auth-loopback-done = Vous êtes connecté à Bodhi. Vous pouvez fermer cet onglet.
auth_error-user_not_found = Aucun utilisateur de ce déploiement ne s'appelle { $user } : `{ $prog } users` les liste.
auth_error-role_above_yours = Vous ne pouvez pas donner le rôle { $role } : il est au-dessus du vôtre ({ $have }).
auth_error-not_below_you = Vous ne pouvez modifier que les utilisateurs dont le rôle est inférieur au vôtre ; { $user } est { $role }.
auth_error-unknown_role = { $role } n'est pas un rôle ; l'un de : { $roles }.
