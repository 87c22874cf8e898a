# Identity commands (issue 11): auth setup, login, whoami, logout, users. Never a token.

cmd-auth = set up logins for this deployment (OpenID provider)
arg-auth-setup = register this deployment with an OpenID provider (once, by an admin)
arg-auth-setup-issuer = the provider's issuer URL
arg-auth-setup-name = the name users see on the provider's consent page
arg-auth-setup-description = a line about this deployment
auth-setup-bad-issuer = --issuer must be the provider's http(s) issuer URL, e.g. https://id.example.org/realms/team
auth-setup-done = This deployment is registered with { $issuer } as client { $client }; BODHI_AUTH_ISSUER is saved in settings.yaml.
auth-setup-next = Next: `{ $prog } login` (the first user to log in becomes the admin).

cmd-login = log in: in a browser on this machine, or with a code (--device) from anywhere
arg-login-device = show a code to enter on another device (remote kernels)
arg-login-no_browser = only print the login address, open no browser
arg-login-timeout = seconds to wait for the browser (default 300)
auth-login-open = Open this address to log in (waiting for the browser): { $url }
auth-logged-in = Logged in as { $user } (role: { $role }).
auth-no-role-yet = You have no role in this deployment yet: ask a manager or admin for one.
auth-device-open = To log in, open { $uri }
auth-device-code = and enter the code: { $code }
auth-device-complete = (or open { $uri }, which holds the code)
auth-device-waiting = Waiting for the login to be approved (the code expires in { $minutes } min)…
auth-device-status-waiting = waiting for approval…
auth-device-status-done = logged in as { $user } (role: { $role })
auth-device-status-failed = not logged in: { $error }
auth-item-username = username
auth-item-user-id = user id
auth-item-role = role
auth-item-issuer = provider
auth-item-client = client
auth-item-profile = profile
auth-item-token-expires = access token expires

cmd-whoami = who is logged in: username, role, provider, when the access token expires
arg-whoami-refresh = get new tokens first (a role changed at the provider)
auth-off = Authentication is off (no BODHI_AUTH_ISSUER): you are this machine's admin.
auth-whoami-title = Logged in

cmd-logout = log out: revoke the refresh token at the provider and end the session
auth-logged-out = Logged out: the session is ended and its refresh token revoked.
auth-nobody-logged-in = Nobody was logged in.

cmd-users = list users and their roles, set a role, remove a user (manager or admin)
arg-users-ls = this deployment's users and their roles (manager or admin)
arg-users-ls-page = the page (from 1)
arg-users-ls-page_size = users per page
arg-users-set-role = give a user a role (at or below yours; the user's role must be below yours)
arg-users-set-role-user = username or user id
arg-users-set-role-role = user, power_user, manager or admin
arg-users-remove = take a user's access to this deployment away
arg-users-remove-user = username or user id
arg-users-remove-yes = do not ask
auth-users-bad-page = --page must be 1 or more and --page-size between 1 and 100.
auth-users-title = Users of { $client } (page { $page } of { $pages }, { $total } in all)
col-username = username
col-role = role
col-user_id = user id
auth-role-set = { $user } now has the role { $role }.
auth-sessions-cleared = Their sessions were cleared: their next command reads the new role.
auth-remove-confirm = Remove { $user }'s access to this deployment?
auth-remove-needs-yes = Removing a user needs -y where nobody can be asked.
auth-remove-kept = { $user } keeps their access.
auth-user-removed = { $user } no longer has access to this deployment; their sessions were cleared.

ui-status-login = logged in
ui-status-login-off = authentication off
ui-status-login-nobody = nobody (`{ $prog } login`)
ui-status-login-user = { $user } ({ $role }, profile { $profile })
ui-status-models-login = log in to see them (`{ $prog } login`)
