# Identity (issue 11): OpenID login, tokens and roles. A message never holds a token.

auth_error-token_malformed = The access token is not a signed token this deployment can read. Log in again: `{ $prog } login`.
auth_error-token_algorithm = The access token is signed with { $alg }, which is not allowed (only RS256, PS256 and ES256 are). Log in again: `{ $prog } login`.
auth_error-token_unknown_key = The access token was signed with a key the provider does not publish. Log in again: `{ $prog } login`.
auth_error-token_signature = The access token's signature does not verify. Log in again: `{ $prog } login`.
auth_error-token_issuer = The access token comes from another provider than { $expected }. Log in again: `{ $prog } login`.
auth_error-token_audience = The access token is not meant for this deployment (client { $client }). Log in again: `{ $prog } login`.
auth_error-token_expired = The access token has expired. Log in again: `{ $prog } login`.
auth_error-token_not_yet_valid = The access token is not valid yet; check this machine's clock.
auth_error-jwks_unavailable = The provider's signing keys could not be read ({ $reason }). Check `BODHI_AUTH_ISSUER` and that the provider is reachable.

# The provider's HTTP client (bodhi_nb.services.oidc_client). Never a token or a secret.
auth_error-issuer_not_set = No OpenID provider is configured: set `BODHI_AUTH_ISSUER` to the provider's issuer URL.
auth_error-issuer_unreachable = The OpenID provider { $issuer } cannot be reached ({ $reason }). Check `BODHI_AUTH_ISSUER` and the network.
auth_error-discovery_broken = The OpenID provider { $issuer } does not publish a usable configuration ({ $reason }). Check `BODHI_AUTH_ISSUER`.
auth_error-invalid_client = The provider does not accept this deployment's client id and secret ({ $endpoint }). The client may have been deleted or its secret changed.
auth_error-login_again = The login is no longer valid ({ $endpoint }). Log in again: `{ $prog } login`.
auth_error-access_denied = The login was refused on the provider's page.
auth_error-device_expired = The code expired before the login was approved. Start again: `{ $prog } login`.
auth_error-cancelled = The login was cancelled.
auth_error-provider_unavailable = The OpenID provider is unavailable ({ $endpoint }: { $reason }). Try again later.
auth_error-provider_refused = The OpenID provider refused the request ({ $endpoint }: { $error }).
auth_error-forbidden = Your role does not allow this ({ $endpoint }).
auth_error-conflict = The provider refused a conflicting change ({ $endpoint }): for example, the resource already has an admin.

# The login workflows and sessions (bodhi_nb.services.auth). Never a token or a secret.
auth_error-not_set_up = This deployment is not registered with the OpenID provider yet: an admin runs `{ $prog } auth setup --issuer URL --name NAME`.
auth_error-state_mismatch = The login's answer does not match the login that was started (state mismatch): it was refused. Start the login again.
auth_error-login_required = This needs a login: run `{ $prog } login` (or `{ $prog } login --device` on a remote kernel).
auth_error-insufficient_role = This needs the role { $needed } or above; yours is { $have }. Ask a manager or admin: `{ $prog } users set-role USER ROLE`.
setting-BODHI_AUTH_ISSUER = OpenID provider's issuer URL (empty: authentication off)
setting-BODHI_PROFILE = name of the login profile (one logged-in user per profile and BODHI_HOME)
auth_error-login_timeout = The browser did not come back from the login page within { $seconds } s. Start the login again.
auth-loopback-done = You are logged in to Bodhi. You may close this tab.
auth_error-user_not_found = No user of this deployment is called { $user }: `{ $prog } users` lists them.
auth_error-role_above_yours = You cannot give the role { $role }: it is above your own ({ $have }).
auth_error-not_below_you = You can only change users whose role is below yours; { $user } is { $role }.
auth_error-unknown_role = { $role } is not a role; one of: { $roles }.
