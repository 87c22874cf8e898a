"""bodhi.lock (issue 14): ``lock``, ``pull --locked`` and chat with a locked alias, against
the offline Hub (and llama.cpp for the chat), through the magic and the CLI."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.errors import LockMalformedError, LockUnsupportedVersionError
from bodhi_nb.services.lock import loads
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer

REPO, FILE = "acme/tiny-GGUF", "tiny-Q4_K_M.gguf"
OTHER, OTHER_FILE = "acme/other-GGUF", "other-Q8_0.gguf"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The notebook's folder: the kernel's working folder, where bodhi.lock goes."""
    path = tmp_path / "notebook"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    src = tmp_path / "src"
    src.mkdir()
    made = {}
    for name, arch, size in ((FILE, "llama", 3 << 20), (OTHER_FILE, "qwen2", 2 << 20)):
        made[name] = make_gguf(src / name, arch=arch, context_length=2048, size_bytes=size)
    return made


@pytest.fixture
def sh(hub: FaultyHubServer, folder: Path, models: dict[str, Path]
       ) -> Iterator[InteractiveShell]:
    """A kernel whose HF_ENDPOINT is the offline Hub serving two repositories."""
    hub.add_repo(REPO, {FILE: models[FILE], "README.md": "# tiny"})
    hub.add_repo(OTHER, {OTHER_FILE: models[OTHER_FILE]})
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bodhi_nb")
    yield shell
    shell.run_line_magic("unload_ext", "bodhi_nb")
    InteractiveShell.clear_instance()


def run(shell: InteractiveShell, line: str) -> Any:
    return shell.run_line_magic("bodhi", line)


def hf_cache() -> Path:
    import bodhi_nb

    return bodhi_nb.app().setting_service().hf_cache


def cached_files() -> list[Path]:
    """Every blob, partial or snapshot entry in the cache (lock files aside)."""
    root = hf_cache()
    return sorted(p for p in root.rglob("*") if (p.is_file() or p.is_symlink())
                  and ".locks" not in p.parts) if root.exists() else []


def file_gets(hub: FaultyHubServer) -> list[str]:
    """Requests for a file's content (anything but a HEAD of its metadata)."""
    return [f"{r.origin} {r.method} {r.path}" for r in hub.log
            if r.method != "HEAD" and ("/resolve/" in r.path or r.origin == "cdn")]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pulled_and_locked(sh: InteractiveShell) -> dict[str, Any]:
    assert run(sh, f"pull {REPO} {FILE}") is not None
    assert run(sh, f"alias create tiny --repo {OTHER} --file {OTHER_FILE} -o temperature=0 "
                   "-o seed=7 -o max_tokens=16 --ctx ctx-size=1024") is not None
    assert run(sh, f"pull {OTHER} {OTHER_FILE}") is not None
    assert run(sh, "lock") is not None
    return tomllib.loads(Path("bodhi.lock").read_text())


# -- lock -------------------------------------------------------------------------------------


def test_lock_without_names_pins_what_the_kernel_used(
        sh: InteractiveShell, hub: FaultyHubServer, folder: Path,
        models: dict[str, Path]) -> None:
    data = pulled_and_locked(sh)
    text = (folder / "bodhi.lock").read_text()
    assert text.startswith("# bodhi.lock")
    assert data["version"] == 1
    import bodhi_nb

    assert data["bodhi_nb"] == bodhi_nb.__version__
    import importlib.metadata

    assert data["llama_cpp"] == importlib.metadata.version("llama_cpp_python")
    assert [(m["repo"], m["file"]) for m in data["models"]] == [(OTHER, OTHER_FILE),
                                                                (REPO, FILE)]
    for entry in data["models"]:
        assert entry["commit"] == hub.commit(entry["repo"])
        assert entry["sha256"] == sha256(models[entry["file"]])
        assert entry["size"] == models[entry["file"]].stat().st_size
        assert list(entry) == ["repo", "commit", "file", "sha256", "size"]
    (alias,) = data["aliases"]
    assert alias == {"name": "tiny", "repo": OTHER, "file": OTHER_FILE,
                     "commit": hub.commit(OTHER), "context_params": ["--ctx-size 1024"],
                     "request_params": {"max_tokens": 16, "seed": 7, "temperature": 0}}
    assert "README.md" not in text, "only what was used"
    # the same things locked again: the same bytes (stable order)
    assert run(sh, "lock tiny " + f"{REPO}/{FILE} --out again.lock") is not None
    assert (folder / "again.lock").read_text() == text


def test_lock_names_errors_and_json(sh: InteractiveShell, folder: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run(sh, "lock nothing-here") is None
    assert "error[lock_error-unknown_name]" in capsys.readouterr().err
    assert run(sh, f"alias create later --repo {REPO} --file {FILE}") is not None
    assert run(sh, "lock later") is None
    err = capsys.readouterr().err
    assert "error[lock_error-not_downloaded]" in err and f"%bodhi pull {REPO} {FILE}" in err
    assert not (folder / "bodhi.lock").exists(), "nothing half-written"
    run(sh, f"pull {REPO} {FILE}")
    out = run(sh, f"lock {REPO}:Q4_K_M --out sub/my.lock --json").to_json()
    assert out["path"] == str(folder / "sub" / "my.lock")
    assert [m["file"] for m in out["lock"]["models"]] == [FILE]
    assert out["lock"]["aliases"] == [], "a model alias pins its file, no alias entry"


def test_a_cli_process_used_nothing_and_says_how_to_name_it(
        sh: InteractiveShell, folder: Path, subprocess_env: dict[str, str]) -> None:
    run(sh, f"pull {OTHER} {OTHER_FILE}")
    run(sh, f"alias create tiny --repo {OTHER} --file {OTHER_FILE} -o seed=3")
    cli = [sys.executable, "-m", "bodhi_nb.cli"]
    proc = subprocess.run([*cli, "lock"], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error[lock_error-nothing_used]")
    assert "`bodhi lock ALIAS_OR_MODEL ...`" in line
    proc = subprocess.run([*cli, "lock", "tiny", "--out", "team.lock"], capture_output=True,
                          text=True, timeout=120, env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    data = tomllib.loads((folder / "team.lock").read_text())
    assert data["aliases"][0]["request_params"] == {"seed": 3}


# -- pull --locked ----------------------------------------------------------------------------


def test_round_trip_restores_byte_identical_files_and_the_alias(
        sh: InteractiveShell, hub: FaultyHubServer, folder: Path, models: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    locked = pulled_and_locked(sh)
    assert run(sh, "alias rm tiny") is not None
    shutil.rmtree(hf_cache())
    # before the restore, chat says what to do: never another file under the locked name
    capsys.readouterr()
    assert run(sh, 'chat tiny "hello"') is None
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error[lock_error-model_missing]") and "`%bodhi pull --locked`" in line
    hub.clear_log()
    result = run(sh, "pull --locked --json").to_json()
    assert {(f["file"], f["status"]) for f in result["files"]} == {
        (FILE, "downloaded"), (OTHER_FILE, "downloaded")}
    assert result["aliases"] == [{"alias": "tiny", "status": "created", "differences": []}]
    for entry in locked["models"]:
        path = (hf_cache() / f"models--{entry['repo'].replace('/', '--')}" / "snapshots"
                / entry["commit"] / entry["file"])
        assert path.read_bytes() == models[entry["file"]].read_bytes()
        assert sha256(path) == entry["sha256"]
    shown = run(sh, "alias show tiny --json").to_json()
    assert shown["snapshot"] == hub.commit(OTHER)
    assert shown["request_params"] == {"max_tokens": 16, "seed": 7, "temperature": 0}
    assert shown["context_params"] == ["--ctx-size 1024"]
    # files in the cache that match are kept, without a single request
    hub.clear_log()
    again = run(sh, "pull --locked bodhi.lock --json").to_json()
    assert {f["status"] for f in again["files"]} == {"in_cache"}
    assert again["aliases"][0]["status"] == "same"
    assert hub.log == []


def test_a_tampered_hash_downloads_nothing(sh: InteractiveShell, hub: FaultyHubServer,
                                           folder: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    locked = pulled_and_locked(sh)
    # the second file's hash changed: the first, fine, is not fetched either
    target = next(m for m in locked["models"] if m["file"] == FILE)
    text = Path("bodhi.lock").read_text().replace(target["sha256"], "0" * 64)
    Path("bodhi.lock").write_text(text)
    shutil.rmtree(hf_cache())
    hub.clear_log()
    capsys.readouterr()
    assert run(sh, "pull --locked") is None
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error[lock_error-hash_mismatch]")
    assert f"{REPO}/{FILE}" in line and "0" * 64 in line and target["sha256"] in line
    assert file_gets(hub) == [], "no file content was requested"
    assert {r.method for r in hub.log} == {"HEAD"}
    assert cached_files() == [], "no blob, partial or snapshot entry"


def test_a_changed_size_and_a_damaged_cached_copy(sh: InteractiveShell,
                                                  hub: FaultyHubServer, folder: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    locked = pulled_and_locked(sh)
    entry = next(m for m in locked["models"] if m["file"] == OTHER_FILE)
    text = Path("bodhi.lock").read_text()
    Path("bodhi.lock").write_text(text.replace(f"size = {entry['size']}",
                                               f"size = {entry['size'] + 1}"))
    hub.clear_log()
    assert run(sh, "pull --locked") is None
    assert "error[lock_error-hash_mismatch]" in capsys.readouterr().err
    assert file_gets(hub) == []
    # a cached copy damaged in place is fetched again, never kept
    Path("bodhi.lock").write_text(text)
    blob = hf_cache() / "models--acme--other-GGUF" / "blobs" / entry["sha256"]
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    result = run(sh, "pull --locked --json").to_json()
    assert {(f["file"], f["status"]) for f in result["files"]} == {
        (FILE, "in_cache"), (OTHER_FILE, "downloaded")}
    assert sha256(blob) == entry["sha256"]


def test_a_vanished_commit_downloads_nothing(sh: InteractiveShell, hub: FaultyHubServer,
                                             folder: Path, models: dict[str, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    locked = pulled_and_locked(sh)
    old = hub.commit(REPO)
    # the repository was rewritten: main has a new commit and the old one is gone
    new = hub.add_repo(REPO, {FILE: models[OTHER_FILE], "README.md": "# rewritten"})
    assert new != old
    shutil.rmtree(hf_cache())
    hub.clear_log()
    capsys.readouterr()
    assert run(sh, "pull --locked") is None
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error[lock_error-commit_not_found]")
    assert old in line and f"{REPO}/{FILE}" in line
    assert file_gets(hub) == []
    assert cached_files() == []
    assert any(m["commit"] == old for m in locked["models"])


def test_a_local_alias_that_differs_is_left_alone_and_reported(
        sh: InteractiveShell, folder: Path) -> None:
    pulled_and_locked(sh)
    run(sh, "alias rm tiny")
    run(sh, f"alias create tiny --repo {OTHER} --file {OTHER_FILE} -o seed=1")
    result = run(sh, "pull --locked")
    data = result.to_json()
    assert data["aliases"] == [{"alias": "tiny", "status": "differs",
                                "differences": ["request_params", "context_params"]}]
    assert "differs from the lock in request_params, context_params" in result.to_text()
    assert run(sh, "alias show tiny --json").to_json()["request_params"] == {"seed": 1}


# -- malformed lock files ---------------------------------------------------------------------

GOOD_MODEL = ('[[models]]\nrepo = "acme/a"\ncommit = "' + "a" * 40 + '"\nfile = "a.gguf"\n'
              'sha256 = "' + "b" * 64 + '"\nsize = 10\n')
GOOD_ALIAS = ('[[aliases]]\nname = "x"\nrepo = "acme/a"\nfile = "a.gguf"\ncommit = "'
              + "a" * 40 + '"\ncontext_params = []\n')


@pytest.mark.parametrize(("text", "key"), [
    ("version = 1\n[[models]\n", "(file)"),
    ('version = "1"\n', "version"),
    ("version = 1\nmodels = 3\n", "models"),
    ("version = 1\n" + GOOD_MODEL.replace('"' + "a" * 40 + '"', '"main"'), "models[0].commit"),
    ("version = 1\n" + GOOD_MODEL.replace('"a.gguf"', '"../../../.ssh/id_rsa"'),
     "models[0].file"),
    ("version = 1\n" + GOOD_MODEL.replace('"a.gguf"', '"/etc/passwd"'), "models[0].file"),
    ("version = 1\n" + GOOD_MODEL.replace("b" * 64, "b" * 63), "models[0].sha256"),
    ("version = 1\n" + GOOD_MODEL.replace("b" * 64, "B" * 64), "models[0].sha256"),
    ("version = 1\n" + GOOD_MODEL.replace("size = 10", "size = -1"), "models[0].size"),
    ("version = 1\n" + GOOD_MODEL.replace("size = 10", 'size = "10"'), "models[0].size"),
    ("version = 1\n" + GOOD_MODEL.replace('"acme/a"', '"acme/../a"'), "models[0].repo"),
    ("version = 1\n" + GOOD_MODEL + GOOD_ALIAS.replace('"x"', '"../x"'), "aliases[0].name"),
    ("version = 1\n" + GOOD_MODEL + GOOD_ALIAS + "[aliases.request_params]\ntemperature = 9\n",
     "aliases[0].request_params.temperature"),
    ("version = 1\n" + GOOD_MODEL + GOOD_ALIAS + "[aliases.request_params]\napi_key = 's'\n",
     "aliases[0].request_params.api_key"),
    ("version = 1\n" + GOOD_MODEL + GOOD_ALIAS.replace("[]", '["rm -rf"]'),
     "aliases[0].context_params"),
    ("version = 1\n" + GOOD_MODEL + GOOD_ALIAS.replace('"a.gguf"', '"b.gguf"'), "aliases[0]"),
    ("version = 1\n" + GOOD_MODEL + GOOD_ALIAS + GOOD_ALIAS, "aliases[1].name"),
])
def test_malformed_lock_files_name_the_key(text: str, key: str) -> None:
    with pytest.raises(LockMalformedError) as info:
        loads(text, "bodhi.lock")
    assert info.value.params["key"] == key


def test_a_good_lock_parses_and_a_newer_version_is_refused() -> None:
    lock = loads("version = 1\n" + GOOD_MODEL + GOOD_ALIAS + "[aliases.request_params]\n"
                 "seed = 4\n")
    assert lock.alias("x") is not None and lock.alias("x").request_params.seed == 4
    with pytest.raises(LockUnsupportedVersionError):
        loads("version = 2\n")


def test_a_malformed_lock_through_the_front_ends(
        sh: InteractiveShell, hub: FaultyHubServer, folder: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        subprocess_env: dict[str, str]) -> None:
    Path("bodhi.lock").write_text("version = 1\n" + GOOD_MODEL.replace("b" * 64, "nope"))
    hub.clear_log()
    capsys.readouterr()
    assert run(sh, "pull --locked") is None
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == ("error[lock_error-malformed]: " + str(folder / "bodhi.lock")
                    + " is not a valid lock file: models[0].sha256: expected 64 lowercase hex"
                    " digits. Fix that key, or write the file again with `%bodhi lock`.")
    assert hub.log == []
    # chat in this folder reads the lock first: a bad one is never silently skipped
    assert run(sh, "chat tiny hello") is None
    assert "error[lock_error-malformed]" in capsys.readouterr().err
    # the CLI, in French, with the lock named
    env = {**subprocess_env, "BODHI_LOCALE": "fr-FR"}
    proc = subprocess.run([sys.executable, "-m", "bodhi_nb.cli", "pull", "--locked",
                           "missing.lock"], capture_output=True, text=True, timeout=120,
                          env=env)
    assert proc.returncode == 1
    assert re.fullmatch(r"error\[lock_error-not_found\]: Aucun fichier de verrouillage à "
                        r"\S+missing\.lock\. .*`bodhi lock`.*\n", proc.stderr)


def test_the_gates() -> None:
    from bodhi_nb.commands.grammar import parse
    from bodhi_nb.services.policy import POLICY, Action

    assert POLICY[Action.LOCK] == "resource_user"
    assert parse(["lock"]).command.action is Action.LOCK
    assert parse(["pull", "--locked"]).command.action is Action.PULL


# -- chat with a locked alias (a real llama.cpp server) ---------------------------------------


def test_chat_with_a_locked_alias_uses_the_lock(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from llama_fixtures import _model_path

    import bodhi_nb
    from bodhi_nb.services.chat import ChatRequest
    from bodhi_nb.testing.gguf_files import put_in_hf_cache

    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")  # a shared machine
    gemma, gemma_file = "bodhi-test/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf"
    put_in_hf_cache(Path(os.environ["HF_HOME"]) / "hub", gemma, gemma_file, _model_path())
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "bodhi_nb")
    try:
        app = bodhi_nb.app()

        def ctx_size() -> str:
            (server,) = app.local_llm_service().running()
            command = list(server.command)
            return command[command.index("--n_ctx") + 1]

        # a chat with a model alias is "used": `lock` without names pins its file
        model_alias = f"{gemma}:Q4_K_M"
        assert run(sh, f'chat {model_alias} "Hi" -o max_tokens=2 --no-stream --no-log')
        assert run(sh, "lock --out used.lock") is not None
        used = tomllib.loads((folder / "used.lock").read_text())
        assert [m["file"] for m in used["models"]] == [gemma_file] and used["aliases"] == []

        base = f"alias create tiny --repo {gemma} --file {gemma_file} --ctx chat_format=alpaca"
        assert run(sh, f"{base} --ctx n_ctx=1024 -o temperature=0 -o seed=7 -o max_tokens=6")
        assert run(sh, "lock tiny") is not None
        # the local alias changes after the lock; the lock wins in this folder
        run(sh, "alias rm tiny")
        assert run(sh, f"{base} --ctx n_ctx=512 -o temperature=0.5 -o seed=1 -o max_tokens=3")
        locked = run(sh, 'chat tiny "Name a colour." --no-stream --no-log').to_json()
        assert (locked["params"]["seed"], locked["params"]["max_tokens"],
                locked["params"]["temperature"]) == (7, 6, 0)
        assert ctx_size() == "1024", "the lock's context params start the server"
        # what the command line says still wins
        explicit = run(sh, 'chat tiny "Name a colour." -o seed=3 --no-stream --no-log')
        assert explicit.to_json()["params"]["seed"] == 3
        assert explicit.to_json()["params"]["max_tokens"] == 6
        # the Python API (the batch API's path) resolves through the same service
        reply = app.chat_service().chat(ChatRequest("tiny", "Name a colour.", stream=False,
                                                    log=False))
        assert reply.params["seed"] == 7 and reply.text == locked["text"]
        # without the lock file: the local alias again
        (folder / "bodhi.lock").unlink()
        local = run(sh, 'chat tiny "Name a colour." --no-stream --no-log').to_json()
        assert (local["params"]["seed"], local["params"]["max_tokens"]) == (1, 3)
        assert ctx_size() == "512"
    finally:
        sh.run_line_magic("unload_ext", "bodhi_nb")
        InteractiveShell.clear_instance()


def test_api_aliases_and_their_keys_never_reach_the_lock(
        sh: InteractiveShell, folder: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.testing.echo_llm import EchoLlm

    secret = "sk-echo-do-not-write-me-0123456789"
    monkeypatch.setenv("ECHO_KEY", secret)
    with EchoLlm(delay=0) as echo:
        assert run(sh, f"api add echo --base-url {echo.base_url} --models echo "
                       "--api-key-env ECHO_KEY") is not None
        assert run(sh, 'chat echo "hello there" --no-stream').text == "hello there"
    assert run(sh, "lock echo") is None
    assert "error[lock_error-api_alias]" in capsys.readouterr().err
    assert run(sh, "lock") is None, "an API chat is nothing a lock can pin"
    assert "error[lock_error-nothing_used]" in capsys.readouterr().err
    run(sh, f"pull {REPO} {FILE}")
    assert run(sh, "lock") is not None
    text = (folder / "bodhi.lock").read_text()
    assert secret not in text and "echo" not in text and "http" not in text
