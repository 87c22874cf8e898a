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

cmd-access = demander l'accès ; lister, approuver et rejeter les demandes d'accès (responsable ou administrateur)
arg-access-request = demander l'accès à ce déploiement à un responsable ou un administrateur (vous n'avez pas encore de rôle)
arg-access-request-reason = pourquoi vous avez besoin d'un accès (les responsables le voient)
arg-access-status = votre dernière demande d'accès : en attente, approuvée (avec le rôle) ou rejetée
arg-access-ls = lister les demandes d'accès (responsable ou administrateur) : en attente les plus anciennes d'abord, les autres les plus récentes
arg-access-ls-status = seulement les demandes dans cet état
arg-access-ls-query = seulement celles dont le nom d'utilisateur ou le motif contient ce texte
arg-access-ls-limit = au plus ce nombre
arg-access-ls-offset = sauter d'abord ce nombre
arg-access-approve = approuver une demande en attente avec un rôle égal ou inférieur au vôtre
arg-access-approve-id = l'identifiant de la demande (ou ses derniers caractères)
arg-access-approve-role = user, power_user, manager ou admin (égal ou inférieur au vôtre)
arg-access-reject = rejeter une demande en attente, avec un motif que l'utilisateur voit
arg-access-reject-id = l'identifiant de la demande (ou ses derniers caractères)
arg-access-reject-reason = pourquoi (l'utilisateur le voit dans `access status`)
col-reason = motif
col-reviewer = responsable
col-requested = demandée
access-state-pending = en attente
access-state-approved = approuvée
access-state-rejected = rejetée
access-state-all = toutes
access-empty = aucune demande d'accès
access-bad-page = --limit doit être entre 1 et 10000 et --offset positif ou nul.
access-ls-title = Demandes d'accès ({ $status }) : { $count } affichées sur { $total }
access-requested = Accès demandé (demande { $id }) : un responsable ou un administrateur va l'examiner.
access-requested-next = `{ $prog } access status` montre où elle en est.
access-status-none = Vous n'avez pas demandé d'accès : `{ $prog } access request --reason "..."` le demande à un responsable ou un administrateur.
access-status-pending = Votre demande d'accès { $id } (faite le { $requested }) attend d'être examinée.
access-status-approved = Votre demande d'accès { $id } a été approuvée par { $reviewer } ({ $updated }) : votre rôle est { $role }.
access-status-approved-next = Reconnectez-vous pour l'utiliser : `{ $prog } login`.
access-status-rejected = Votre demande d'accès { $id } a été rejetée par { $reviewer } ({ $updated }).
access-status-rejected-note = Motif : { $note }
access-status-rejected-next = Vous pouvez redemander : `{ $prog } access request --reason "..."`.
access-approved = Demande { $id } de { $user } approuvée avec le rôle { $role }.
access-approved-sessions = Ses sessions ont été fermées : sa prochaine commande lui demande de se reconnecter, et lit le rôle.
access-rejected = Demande { $id } de { $user } rejetée.
