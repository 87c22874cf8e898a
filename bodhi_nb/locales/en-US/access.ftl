# Access requests (issue 12): asking for a role, and the managers' review.

access_error-already_has_access = You have the role { $role } already: there is nothing to ask for. A manager or admin changes roles with `{ $prog } users set-role`.
access_error-already_pending = Your access request { $id } is waiting for review already: `{ $prog } access status` shows it.
access_error-already_processed = { $status ->
    [pending] Access request { $id } is being approved by another reviewer right now: `{ $prog } access ls` shows the outcome in a moment.
   *[other] Access request { $id } was { $status } already: `{ $prog } access ls --status { $status }` shows it.
    }
access_error-not_found = No access request has the id { $id }: `{ $prog } access ls` lists them.
setting-BODHI_AUTH_TIMEOUT_SECS = seconds a request to the OpenID provider may take before it fails

cmd-access = ask for access; list, approve and reject access requests (manager or admin)
arg-access-request = ask a manager or admin for access to this deployment (you have no role yet)
arg-access-request-reason = why you need access (the reviewers see it)
arg-access-status = your newest access request: pending, approved (with the role) or rejected
arg-access-ls = list access requests (manager or admin): pending oldest first, others newest
arg-access-ls-status = only requests in this state
arg-access-ls-query = only those whose username or reason holds this text
arg-access-ls-limit = at most this many
arg-access-ls-offset = skip this many first
arg-access-approve = approve a pending request with a role at or below yours
arg-access-approve-id = the request's id (or its last characters)
arg-access-approve-role = user, power_user, manager or admin (at or below yours)
arg-access-reject = reject a pending request, with a reason the user sees
arg-access-reject-id = the request's id (or its last characters)
arg-access-reject-reason = why (the user sees it in `access status`)
col-reason = reason
col-reviewer = reviewer
col-requested = requested
access-state-pending = pending
access-state-approved = approved
access-state-rejected = rejected
access-state-all = all
access-empty = no access requests
access-bad-page = --limit must be between 1 and 10000 and --offset 0 or more.
access-ls-title = Access requests ({ $status }): { $count } shown of { $total }
access-requested = Access requested (request { $id }): a manager or admin will review it.
access-requested-next = `{ $prog } access status` shows where it stands.
access-status-none = You have not asked for access: `{ $prog } access request --reason "..."` asks a manager or admin.
access-status-pending = Your access request { $id } (made { $requested }) is waiting for review.
access-status-approved = Your access request { $id } was approved by { $reviewer } ({ $updated }): your role is { $role }.
access-status-approved-next = Log in again to use it: `{ $prog } login`.
access-status-rejected = Your access request { $id } was rejected by { $reviewer } ({ $updated }).
access-status-rejected-note = Reason: { $note }
access-status-rejected-next = You may ask again: `{ $prog } access request --reason "..."`.
access-approved = Approved { $user }'s request { $id } with the role { $role }.
access-approved-sessions = Their sessions were cleared: their next command asks them to log in, and reads the role.
access-rejected = Rejected { $user }'s request { $id }.
