"""Identity: local token validation, and what the gate adds to a command.

Against the real OpenID test server (tests/oidc_server, ``make peers``), a deployment is set
up and a user logs in (PKCE, the browser played over HTTP), then:

* token validation p50 with the JWKS cached (``TokenValidator.validate``: header and
  algorithm checks, key lookup, signature, iss/aud/azp/exp/nbf, the role) against a bare
  ``joserfc.jwt.decode`` of the same token with the same key (signature only) in the same run;
* ``ls`` through ``execute`` (what the magic and the CLI run) with authentication on and
  the user logged in, against the same command on a deployment with authentication off, in
  the gate's three cases: the first command after two seconds (most notebook commands: one
  read checks the session still exists), within two seconds of the last check (nothing
  read), and nothing remembered (the first command of a process: the session and its
  tokens read, decrypted and validated).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, percentile

REDIRECT = "http://127.0.0.1/callback"


def _registry(home: Path, env: dict[str, str]) -> Any:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    return build_app_service(SettingService(env={**env, "BODHI_HOME": str(home)}))


def run() -> list[dict[str, Any]]:
    from joserfc import jwt
    from joserfc.jwk import KeySet

    from bodhi_nb.commands import Context, execute
    from bodhi_nb.testing.oidc import OidcServer, browser_login

    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, OidcServer() as server:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BODHI_", "HF_"))}
        env |= {"HF_HOME": str(root / "hf"), "XDG_CONFIG_HOME": str(root / "xdg"),
                "BODHI_ENCRYPTION_KEY": "a-bench-key-of-twenty-chars-or-more",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        on = _registry(root / "on", env)
        off = _registry(root / "off", env)
        try:
            auth = on.auth_service()
            auth.setup(server.issuer, "Bench", "bench", [REDIRECT])
            pending = auth.begin_login("http://127.0.0.1:8123/callback")
            admin = server.user("admin")
            final = browser_login(pending.url, admin.username, admin.password,
                                  redirect_uri="http://127.0.0.1:8123/callback")
            auth.finish_login(pending, final)
            token = str.__str__(auth.access_token())
            validator = auth._token_validator()
            validator.validate(token)  # warm: JWKS fetched once
            keys = KeySet.import_key_set(dict(auth.oidc().jwks_document()))  # type: ignore[arg-type]
            from bodhi_nb.services.auth_tokens import _header

            key = next(k for k in keys.keys if k.kid == _header(token).get("kid"))

            ours, bare = [], []
            for _ in range(2000):
                t0 = time.perf_counter()
                validator.validate(token)
                ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                jwt.decode(token, key, algorithms=["RS256", "PS256", "ES256"])
                bare.append(time.perf_counter() - t0)
            p50, base = percentile(ours, 50), percentile(bare, 50)
            out.append(line("auth.validate_token_p50", p50 * 1000, "ms",
                            baseline="joserfc jwt.decode (signature only), same token",
                            baseline_value=base * 1000,
                            p99_ms=round(percentile(ours, 99) * 1000, 4)))

            ctx = Context(prog="bodhi")
            for registry in (on, off):  # warm both: imports, the database lease
                for _ in range(5):
                    execute(["ls"], ctx, lambda r=registry: r)
            cold, full, warm, plain = [], [], [], []
            for _ in range(200):
                aged = auth._remembered  # the first command after a pause: 2 s have passed
                assert aged is not None
                auth._remembered = (aged[0], 0.0, aged[2], aged[3])
                t0 = time.perf_counter()
                execute(["ls"], ctx, lambda: on)
                cold.append(time.perf_counter() - t0)
                auth._forget_known()  # nothing remembered: pointer, session, tokens read
                t0 = time.perf_counter()
                execute(["ls"], ctx, lambda: on)
                full.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                execute(["ls"], ctx, lambda: on)  # within 2 s of the last check
                warm.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                execute(["ls"], ctx, lambda: off)
                plain.append(time.perf_counter() - t0)
            base_ms = percentile(plain, 50) * 1000
            cold_ms, warm_ms = percentile(cold, 50) * 1000, percentile(warm, 50) * 1000
            out.append(line("auth.gated_ls_p50", cold_ms, "ms",
                            baseline="ls with authentication off", baseline_value=base_ms,
                            added_ms=round(cold_ms - base_ms, 3),
                            note="session checked (first command after 2 s)"))
            full_ms = percentile(full, 50) * 1000
            out.append(line("auth.gated_ls_full_read_p50", full_ms, "ms",
                            baseline="ls with authentication off", baseline_value=base_ms,
                            added_ms=round(full_ms - base_ms, 3),
                            note="session and tokens read and decrypted, token validated "
                                 "(first command of a process, or after a login elsewhere)"))
            out.append(line("auth.gated_ls_remembered_p50", warm_ms, "ms",
                            baseline="ls with authentication off", baseline_value=base_ms,
                            added_ms=round(warm_ms - base_ms, 3),
                            note="identity remembered (within 2 s of the last check)"))
        finally:
            on.close()
            off.close()
    return out
