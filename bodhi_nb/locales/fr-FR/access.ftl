# Demandes d'accès (issue 12) : demander un rôle, et la revue par les responsables.

access_error-already_has_access = Vous avez déjà le rôle { $role } : il n'y a rien à demander. Un responsable ou un administrateur change les rôles avec `{ $prog } users set-role`.
access_error-already_pending = Votre demande d'accès { $id } attend déjà d'être examinée : `{ $prog } access status` l'affiche.
access_error-already_processed = { $status ->
    [pending] La demande d'accès { $id } est en cours d'approbation par un autre responsable : `{ $prog } access ls` en montrera l'issue dans un instant.
    [approved] La demande d'accès { $id } a déjà été approuvée : `{ $prog } access ls --status approved` l'affiche.
   *[other] La demande d'accès { $id } a déjà été rejetée : `{ $prog } access ls --status rejected` l'affiche.
    }
access_error-not_found = Aucune demande d'accès n'a l'identifiant { $id } : `{ $prog } access ls` les liste.
setting-BODHI_AUTH_TIMEOUT_SECS = nombre de secondes qu'une requête au fournisseur OpenID peut prendre avant d'échouer
