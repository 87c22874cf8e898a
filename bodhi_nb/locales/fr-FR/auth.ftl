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
