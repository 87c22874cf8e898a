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
