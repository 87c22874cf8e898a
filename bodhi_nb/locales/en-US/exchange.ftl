# RFC 8693 token exchange (issue 13): a third-party app's access token traded for one of ours.
# A message never holds a token.

auth_error-app_token_refused = The identity provider refused this app's access token (revoked, expired or not a user's token). Sign in to the app again.
