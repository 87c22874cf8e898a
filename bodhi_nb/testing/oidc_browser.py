"""Plays the user's browser for ``bodhi login`` in tests.

``bodhi login`` opens the login address with :mod:`webbrowser`, which runs the program the
``BROWSER`` variable names with the address as its argument. A test points ``BROWSER`` at a
small script that runs ``python -m bodhi_nb.testing.oidc_browser USERNAME PASSWORD_ENV URL``:
it fills the test provider's login and consent forms (:func:`bodhi_nb.testing.oidc.
browser_login`) and then visits the loopback address the provider redirects to, as a browser
would. The password is read from the environment variable named, never from the command
line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import httpx

from bodhi_nb.testing.oidc import browser_login

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    username, password_env, url = list(sys.argv[1:] if argv is None else argv)
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    final = browser_login(url, username, os.environ[password_env], redirect_uri=redirect_uri)
    response = httpx.get(final, timeout=10.0)
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
