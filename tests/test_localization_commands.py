"""Issue 8 item 26: pull, rm, chat, history and ps speak French under fr-FR.

Each test runs the same command lines under en-US and fr-FR and checks two things: the English
phrases listed here do appear in the en-US output (so the list cannot go stale) and none of
them is left in the fr-FR output; and, whatever the list says, every table heading and title
and every message line differs between the two locales unless it is made of data only (a
repository id, a number). A string added in English only, or a message missing from fr-FR,
fails one or the other.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bodhi_nb.commands import Context, execute, render_error
from bodhi_nb.commands.results import Message, Result, Sections, Table
from bodhi_nb.errors import BodhiError
from bodhi_nb.terminal import StdoutLive
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer

REPO, FILE = "acme/tiny-GGUF", "tiny-Q4_K_M.gguf"
#: headings, titles and lines that read the same in both languages (words or pure data).
SAME_IN_BOTH = {"id", "action", "alias", "quant", "total", "pid", "port",
                f"{REPO} @ main", "acme/drop @ main", "acme/c @ main", ""}


def _found(words: tuple[str, ...], text: str) -> list[str]:
    return [w for w in words if re.search(rf"(?<![\w.-]){re.escape(w)}(?![\w.-])", text)]


def _texts(result: Result) -> str:
    return "\n".join([result.to_text(), result.to_markdown(), result.to_html()])


def _pieces(result: Result) -> list[str]:
    """Every heading, title, empty-table line and message line a result shows."""
    if isinstance(result, Sections):
        return [p for _, part in result.parts for p in _pieces(part)]
    if isinstance(result, Table):
        return [*result.columns, result.title or "", result.empty if not result.rows else ""]
    if isinstance(result, Message):
        return [result.text, *result.notices]
    return []


Run = Callable[[str], tuple[str, list[str]]]


def _runner(locale: str | None, monkeypatch: pytest.MonkeyPatch,
            asked: list[str]) -> Run:
    """Runs one command line in ``locale`` (None: the registry's own): (everything it
    shows, its pieces)."""
    from bodhi_nb.app import app

    if locale is not None:
        monkeypatch.setenv("BODHI_LOCALE", locale)

    def confirm(question: str) -> bool:
        asked.append(question)
        return False

    def run(line: str) -> tuple[str, list[str]]:
        import shlex

        # --ask: a confirmation that answers no; --cell: run as a %%bodhi cell
        ctx = Context(prog="%bodhi", confirm=confirm if "--ask" in line else None,
                      cell="Say hi." if "--cell" in line else None)
        try:
            result = execute([w for w in shlex.split(line) if w not in ("--ask", "--cell")],
                             ctx, app)
        except BodhiError as exc:
            text = render_error(exc, prog="%bodhi", app_factory=app)
            return text, [text.partition(": ")[2]]
        return _texts(result), _pieces(result)

    return run


def _compare(english: dict[str, tuple[str, list[str]]],
             french: dict[str, tuple[str, list[str]]], phrases: tuple[str, ...]) -> None:
    english_text = "\n".join(t for t, _ in english.values())
    french_text = "\n".join(t for t, _ in french.values())
    assert _found(phrases, english_text) == list(phrases), \
        f"en-US never shows {set(phrases) - set(_found(phrases, english_text))}"
    assert _found(phrases, french_text) == []
    for line, (_, pieces) in english.items():
        french_pieces = french[line][1]
        assert len(pieces) == len(french_pieces), line
        left = [e for e, f in zip(pieces, french_pieces, strict=True)
                if e == f and e not in SAME_IN_BOTH]
        assert left == [], f"{line}: untranslated {left}"


#: what pull and rm say in English (none of it may be left in French).
_HUB_ENGLISH = (
    "GGUF files in", "Pull one with", "dry run", "would download", "downloaded",
    "already in the cache", "connection lost at", "resuming", "the bytes on disk did not match",
    "Removed", "freed", "nothing to remove", "nothing removed", "add -y to",
    "give a model or", "removed partial file",
    "file", "size", "status", "path", "repo", "snapshot", "usage:", "show what would be downloaded",
    "remove partial files of interrupted downloads", "do not ask", "branch, tag or commit")
_HUB_LINES = (
    f"pull {REPO}", f"pull {REPO}:Q4_K_M --dry-run", f"pull {REPO}:Q4_K_M",
    f"pull {REPO}:Q4_K_M", f"pull {REPO}:Q4_K_M --dry-run", "pull acme/drop d-Q8_0.gguf",
    "pull acme/c c-Q8_0.gguf", f"rm {REPO}:Q4_K_M", f"rm {REPO}:Q4_K_M --ask",
    f"rm {REPO}:Q4_K_M -y", "rm acme/none:Q4_K_M -y", "rm --partials", "rm --partials", "rm",
    "help pull",
    "help rm", "secret bogus", "api bogus")


def test_pull_and_rm_in_french(hub: FaultyHubServer, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.app import reset_apps

    model = tmp_path / "src" / FILE
    model.parent.mkdir(parents=True)
    make_gguf(model, arch="llama", context_length=2048, size_bytes=3 << 20)
    hub.add_repo(REPO, {FILE: model, "README.md": "# t"})
    hub.add_repo("acme/drop", {"d-Q8_0.gguf": model})
    hub.add_repo("acme/c", {"c-Q8_0.gguf": model})
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    shown: dict[str, dict[str, tuple[str, list[str]]]] = {}
    questions: dict[str, list[str]] = {}
    for locale in ("en-US", "fr-FR"):
        reset_apps()
        monkeypatch.setenv("HF_HOME", str(tmp_path / f"hf-{locale}"))
        monkeypatch.setenv("BODHI_HOME", str(tmp_path / f"home-{locale}"))
        blobs = tmp_path / f"hf-{locale}" / "hub" / "models--acme--c" / "blobs"
        blobs.mkdir(parents=True)
        (blobs / f"{sha}.incomplete").write_bytes(b"\0" * (1 << 20))  # wrong bytes
        asked = questions[locale] = []
        run = _runner(locale, monkeypatch, asked)
        shown[locale] = {}
        for i, line in enumerate(_HUB_LINES):
            if line.startswith("pull acme/drop"):  # the connection drops once: a resume
                hub.drop_after(1 << 20, times=1, origin="cdn")
            partial = blobs.parents[1] / "models--acme--x" / "blobs" / f"{'0' * 64}.incomplete"
            if line == "rm --partials" and not partial.parent.exists():  # one to remove
                partial.parent.mkdir(parents=True)
                partial.write_bytes(b"x")
            shown[locale][f"{i} {line}"] = run(line)
        shown[locale]["(stderr)"] = (capsys.readouterr().err, [])
    reset_apps()
    english, french = shown["en-US"], shown["fr-FR"]
    drop, corrupt = (f"{_HUB_LINES.index(line)} {line}"
                     for line in ("pull acme/drop d-Q8_0.gguf", "pull acme/c c-Q8_0.gguf"))
    assert "resuming" in english[drop][0] and "reprise" in french[drop][0]
    assert "did not match" in english[corrupt][0] and "supprimés" in french[corrupt][0]
    assert questions["en-US"][0].startswith("Remove 1 file(s), 3.0 MiB: acme/tiny-GGUF/")
    assert questions["fr-FR"][0].startswith("Supprimer 1 fichier(s)")
    english["(question)"] = (questions["en-US"][0], [questions["en-US"][0]])
    french["(question)"] = (questions["fr-FR"][0], [questions["fr-FR"][0]])
    _compare(english, french, _HUB_ENGLISH + ("Remove",))
    assert "utilisation : secret set NOM" in french[f"{len(_HUB_LINES) - 2} secret bogus"][0]
    assert "utilisation : api add NOM" in french[f"{len(_HUB_LINES) - 1} api bogus"][0]


def test_pull_json_keeps_english_words_in_french(hub: FaultyHubServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "src" / FILE
    model.parent.mkdir(parents=True)
    make_gguf(model, size_bytes=1 << 20)
    hub.add_repo(REPO, {FILE: model})
    run = _runner("fr-FR", monkeypatch, [])
    dry = run(f"pull {REPO}:Q4_K_M --dry-run --json")[0]
    assert '"action": "would download"' in dry and "serait" not in dry
    pulled = run(f"pull {REPO}:Q4_K_M --json")[0]
    assert '"status": "downloaded"' in pulled and "téléchargé" not in pulled


def test_usage_lines_match_the_code_fallback() -> None:
    from bodhi_nb.commands import api, secret
    from bodhi_nb.services.localization import LocalizationService

    english = LocalizationService("en-US")
    assert english.message("usage-secret") == secret._USAGE
    assert english.message("usage-api") == api._USAGE


def test_a_notice_is_a_message_id_rendered_by_the_front_end() -> None:
    from bodhi_nb.services.hub import Notice
    from bodhi_nb.services.localization import LocalizationService
    from bodhi_nb.terminal import TqdmProgress

    notice = Notice("hub-resuming", filename="f.gguf", bytes=1048576, reason="reset")
    assert notice == "hub-resuming" and notice.args["bytes"] == 1048576
    with pytest.raises(AttributeError):
        notice.args = {}  # type: ignore[misc]
    english, french = TqdmProgress(), TqdmProgress(Context(
        localization=LocalizationService("fr-FR")))
    english.notice(notice)
    french.notice(notice)
    assert english.notices == ["f.gguf: connection lost at 1,048,576 bytes (reset); resuming"]
    assert french.notices[0].startswith("f.gguf : connexion perdue à 1")
    assert french.notices[0].endswith("octets (reset) ; reprise")


# -- chat, history, ps: a real llama.cpp server on the demo model --------------------------

_CHAT_ENGLISH = (
    "tokens", "first token", "model server start", "thread", "Chat history", "when", "prompt",
    "answer", "uptime", "idle", "model file", "state", "no chats logged yet",
    "the prompt is", "--reset needs --thread", "--out needs a", "-n must be at least",
    "give the prompt in the cell body or on the line, not",
    "a system prompt", "how many exchanges", "stop the server now", "Stopped the llama.cpp")


@pytest.fixture
def demo_model(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llama_fixtures import _model_path

    from bodhi_nb.testing.gguf_files import put_in_hf_cache

    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")
    put_in_hf_cache(Path(os.environ["HF_HOME"]) / "hub", "bodhi-test/gemma-3-270m-GGUF",
                    "gemma-3-270m-Q4_K_M.gguf", _model_path())


def test_chat_history_and_ps_in_french(demo_model: None, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.app import app

    registry = app()
    execute(["alias", "create", "tiny", "--repo", "bodhi-test/gemma-3-270m-GGUF", "--file",
             "gemma-3-270m-Q4_K_M.gguf", "--ctx", "chat_format=alpaca", "-o", "temperature=0",
             "-o", "seed=7", "-o", "max_tokens=6"], Context(), app)
    shown: dict[str, dict[str, tuple[str, list[str]]]] = {}
    for locale in ("en-US", "fr-FR"):
        registry.setting_service().set("BODHI_LOCALE", locale)
        run = _runner(None, monkeypatch, [])
        lines = ["history --thread none-yet", "chat tiny ''", "chat tiny hi --reset",
                 "chat tiny hi --cell", "chat tiny hi --out v", "history -n 0", "help chat",
                 "help history", "help ps"]
        shown[locale] = {line: run(line) for line in lines}
        # The chat itself: its summary line (with the server start the first time).
        capsys.readouterr()
        reply = execute(["chat", "tiny", "Say hi.", "--thread", "t1", "--reset"],
                        Context(prog="%bodhi", live=StdoutLive), app)
        shown[locale]["(chat)"] = (repr(reply) + capsys.readouterr().err, [])
        shown[locale]["history (rows)"] = run("history")
        shown[locale]["ps (running)"] = run("ps")
        shown[locale]["ps --stop"] = run("ps --stop")
    english, french = shown["en-US"], shown["fr-FR"]
    assert "— tiny" in english["(chat)"][0] and "first token" in english["(chat)"][0]
    assert "premier jeton" in french["(chat)"][0] and "jetons" in french["(chat)"][0]
    assert "Historique des conversations" in french["history (rows)"][0]
    _compare(english, french, _CHAT_ENGLISH)
