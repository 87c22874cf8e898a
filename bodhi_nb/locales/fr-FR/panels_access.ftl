# Le tableau de bord des demandes d'accès (bodhi_nb/ui/access_panel.py, issue 12).
# { $prog } vaut `%bodhi` dans un notebook et `bodhi` dans un terminal.

arg-panel-access = demandes d'accès : approuver avec un rôle, refuser avec un motif (gestionnaires et administrateurs)

access-panel-title = Demandes d'accès
access-panel-filter = filtrer par utilisateur ou motif…
access-panel-tab-pending = En attente ({ $n })
access-panel-tab-approved = Approuvées ({ $n })
access-panel-tab-rejected = Refusées ({ $n })
access-panel-page = page { $page } sur { $pages } · { $total } demandes
access-panel-role = rôle à donner
access-panel-note = motif (facultatif)
access-panel-approve = Approuver
access-panel-reject = Refuser
access-panel-approving = approbation…
access-panel-rejecting = refus…
access-panel-approved = { $user } approuvé avec le rôle { $role }.
access-panel-rejected = Demande de { $user } refusée.

# Il y a combien de temps une demande a été faite ou traitée.
access-ago-now = à l'instant
access-ago-minutes = il y a { $n } min
access-ago-hours = il y a { $n } h
access-ago-days = { $n ->
    [one] il y a { $n } jour
   *[other] il y a { $n } jours
    }

col-reviewed = traitée
col-rejection = motif du refus
