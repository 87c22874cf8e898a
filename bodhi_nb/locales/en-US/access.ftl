# Access requests (issue 12): asking for a role, and the managers' review.

access_error-already_has_access = You have the role { $role } already: there is nothing to ask for. A manager or admin changes roles with `{ $prog } users set-role`.
access_error-already_pending = Your access request { $id } is waiting for review already: `{ $prog } access status` shows it.
access_error-already_processed = { $status ->
    [pending] Access request { $id } is being approved by another reviewer right now: `{ $prog } access ls` shows the outcome in a moment.
   *[other] Access request { $id } was { $status } already: `{ $prog } access ls --status { $status }` shows it.
    }
access_error-not_found = No access request has the id { $id }: `{ $prog } access ls` lists them.
setting-BODHI_AUTH_TIMEOUT_SECS = seconds a request to the OpenID provider may take before it fails
