"""Child process for the store load tests (run as a script, not collected by pytest).

    python tests/store_worker.py mixed TAG N
    python tests/store_worker.py host


N mixed writes through a full registry built from the environment (BODHI_HOME,
BODHI_DATABASE_URL, BODHI_ENCRYPTION_KEY): a secret (SecretService), an API alias with a key
(AiApiService), a download request row and a chat exchange (the tables the registry hands
to DownloadService and ChatService). Prints one JSON line: {"errors": [codes], "done": n}.

``host`` is a long-lived kernel on one host: it keeps one registry (and its cached reads)
and answers each line of stdin (``aliases``, ``secrets``, ``quit``) with one JSON line.
"""

from __future__ import annotations

import json
import sys
import traceback

from bodhi_nb.errors import BodhiError


def mixed(tag: str, count: int) -> int:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.objs import ApiAlias, ChatMessage, DownloadRequest, DownloadStatus, new_ulid
    from bodhi_nb.services.settings import SettingService

    registry = build_app_service(SettingService())
    secrets = registry.secret_service()
    ai_api = registry.ai_api_service()
    tables = registry.db_service().tables
    clock = registry.time_service()
    errors: list[str] = []
    done = 0
    for i in range(count):
        kind = i % 4
        try:
            if kind == 0:
                secrets.store_secret(f"S_{tag}_{i}", f"value-{tag}-{i}-0123456789")
            elif kind == 1:
                ai_api.add_api_alias(
                    ApiAlias(id=f"api-{tag}-{i}", base_url="http://127.0.0.1:9/v1",
                             models=(f"m-{tag}-{i}",)), f"sk-{tag}-{i}-0123456789abcdef")
            elif kind == 2:
                now = clock.utc_now()
                tables.downloads.create(DownloadRequest(
                    f"d-{tag}-{i}", "o/n", f"{tag}-{i}.gguf", DownloadStatus.PENDING, now, now))
            else:
                now = clock.utc_now()
                exchange = new_ulid()
                tables.chat_messages.add([
                    ChatMessage(new_ulid(), f"t-{tag}", exchange, 0, "user", f"q{i}", now),
                    ChatMessage(new_ulid(), f"t-{tag}", exchange, 1, "assistant", f"a{i}",
                                now, alias="m")])
            done += 1
        except BodhiError as exc:
            errors.append(exc.code)
        except Exception:  # noqa: BLE001 - the parent reports it
            errors.append(traceback.format_exc(limit=3))
    registry.close()
    print(json.dumps({"errors": errors, "done": done}), flush=True)
    return 1 if errors else 0


def host() -> int:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    registry = build_app_service(SettingService())
    print(json.dumps("ready"), flush=True)
    for line in sys.stdin:
        word = line.strip()
        if word == "aliases":
            aliases = registry.ai_api_service().list_api_aliases()
            answer: object = [[a.id, a.has_api_key] for a in aliases]
        elif word == "secrets":
            answer = [s.name for s in registry.secret_service().list_secrets()]
        else:
            break
        print(json.dumps(answer), flush=True)
    registry.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "host":
        sys.exit(host())
    sys.exit(mixed(sys.argv[2], int(sys.argv[3])))
