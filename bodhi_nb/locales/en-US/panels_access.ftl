# The access-request dashboard (bodhi_nb/ui/access_panel.py, issue 12).
# { $prog } is `%bodhi` in a notebook and `bodhi` in a terminal.

arg-panel-access = access requests: approve with a role, reject with a reason (managers and admins)

access-panel-title = Access requests
access-panel-filter = filter by user or reason…
access-panel-tab-pending = Pending ({ $n })
access-panel-tab-approved = Approved ({ $n })
access-panel-tab-rejected = Rejected ({ $n })
access-panel-page = page { $page } of { $pages } · { $total } requests
access-panel-role = role to give
access-panel-note = reason (optional)
access-panel-approve = Approve
access-panel-reject = Reject
access-panel-approving = approving…
access-panel-rejecting = rejecting…
access-panel-approved = Approved { $user } as { $role }.
access-panel-rejected = Rejected { $user }'s request.

# How long ago a request was made or reviewed.
access-ago-now = just now
access-ago-minutes = { $n } min ago
access-ago-hours = { $n } h ago
access-ago-days = { $n ->
    [one] { $n } day ago
   *[other] { $n } days ago
    }

col-reviewed = reviewed
col-rejection = rejection reason
