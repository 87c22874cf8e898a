"""``ls`` and ``alias ...`` end to end: IPython's InteractiveShell, ``cli.main`` and a child
process running ``python -m bodhi_nb.cli``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from _backends import both_backends
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.cli import main
from bodhi_nb.commands.models import parse_context_params, parse_request_params
from bodhi_nb.commands.results import JsonView, Result
from bodhi_nb.errors import BadArgumentsError, InvalidValueError, OutOfRangeError
from bodhi_nb.testing.gguf_files import make_gguf, nested_array_gguf, put_in_hf_cache

REPO = "bartowski/Llama-3.2-1B-Instruct-GGUF"
FILE = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"


@pytest.fixture
def hf_cache(isolated_env: Path) -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


@pytest.fixture
def downloaded(hf_cache: Path, tmp_path: Path) -> Path:
    """One real model in the cache, plus a file that is not a GGUF."""
    model = make_gguf(tmp_path / "src.gguf", arch="llama", context_length=131072,
                      chat_template="{{ messages }}", file_type=15)
    link = put_in_hf_cache(hf_cache, REPO, FILE, model)
    put_in_hf_cache(hf_cache, REPO, "junk-Q8_0.gguf", b"<html>rate limited</html>")
    return link


def magic(shell: InteractiveShell, line: str) -> Result:
    result = shell.run_line_magic("bodhi", line)
    assert isinstance(result, Result), line
    return result


# -- notebook -------------------------------------------------------------------------------

@both_backends
def test_alias_lifecycle_in_the_notebook(shell: InteractiveShell, downloaded: Path,
                                         isolated_env: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # An API alias lives in the store (DuckDB or PostgreSQL); ``alias ls`` lists it beside
    # the user aliases (files) and model aliases (the HF cache).
    magic(shell, "api add remote --base-url http://127.0.0.1:9/v1 --models far-model "
                 "--prefix r/ --no-api-key")
    created = magic(shell, f"alias create llama3:instruct --repo {REPO} --file {FILE} "
                           "-o temperature=0.2 -o 'system_prompt=Be brief.' "
                           "--ctx ctx-size=4096 --ctx n_gpu_layers=99 --ctx flash-attn")
    commit = downloaded.parent.name
    assert f"created alias llama3:instruct -> {REPO} {FILE} @ {commit}" in created.to_text()
    stored = yaml.safe_load((isolated_env / "aliases" / "llama3--instruct.yaml").read_text())
    assert stored["request_params"] == {"temperature": 0.2, "system_prompt": "Be brief."}
    assert stored["context_params"] == ["--ctx-size 4096", "--n-gpu-layers 99", "--flash-attn"]
    assert stored["snapshot"] == commit

    listing = magic(shell, "alias ls")
    text = listing.to_text()
    assert "llama3:instruct" in text and f"{REPO}:Q4_K_M" in text and f"{REPO}:Q8_0" in text
    assert "temperature=0.2" in text and "--ctx-size 4096" in text
    assert "remote" in text and "far-model" in text
    assert [(r["alias"], r["repo"]) for r in listing.to_json() if r["source"] == "api"] == [
        ("remote", "http://127.0.0.1:9/v1")]
    bundle = listing._repr_mimebundle_()
    assert "<table>" in bundle["text/html"] and "llama3:instruct" in bundle["text/markdown"]

    shown = magic(shell, "alias show llama3:instruct")
    assert "alias: llama3:instruct" in shown.to_text()
    assert f"local_path: {downloaded}" in shown.to_text()
    assert shown.to_json()["context_params"][0] == "--ctx-size 4096"

    assert "copied alias llama3:instruct to mine" in magic(
        shell, "alias copy llama3:instruct mine").to_text()
    assert "removed alias mine" in magic(shell, "alias rm mine").to_text()
    assert not (isolated_env / "aliases" / "mine.yaml").exists()
    assert capsys.readouterr().err == ""


def test_errors_are_one_localized_line(shell: InteractiveShell, downloaded: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    magic(shell, f"alias create a --repo {REPO} --file {FILE}")
    capsys.readouterr()
    cases = {
        f"alias create a --repo {REPO} --file {FILE}": "data_service_error-alias_exists",
        "alias rm nope": "data_service_error-alias_not_found",
        "alias copy nope b": "data_service_error-alias_not_found",
        "alias show nope": "data_service_error-alias_not_found",
        f"alias create b --repo {REPO} --file ../x.gguf":
            "data_service_error-invalid_local_filename",
        f"alias create b --repo {REPO} --file {FILE} -o temperature=3":
            "obj_validation_error-out_of_range",
        f"alias create b --repo {REPO} --file {FILE} -o warmth=1":
            "command_error-bad_arguments",
        "alias create b --repo nope --file x.gguf": "obj_validation_error-invalid_repo",
        "alias create b --file x.gguf": "command_error-bad_arguments",
        "alias frobnicate": "command_error-bad_arguments",
        "alias": "command_error-bad_arguments",
    }
    for line, code in cases.items():
        assert shell.run_line_magic("bodhi", line) is None, line
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error[{code}]: "), (line, err)
        assert "Traceback" not in err[0]
    shell.run_line_magic("bodhi", "alias create a --repo x/y --file f.gguf")
    line = capsys.readouterr().err
    assert "`%bodhi alias rm a`" in line  # the fix, spelled for the notebook


def test_ls_lists_models_with_metadata_and_problems(shell: InteractiveShell,
                                                    downloaded: Path) -> None:
    magic(shell, f"alias create chat --repo {REPO} --file {FILE}")
    result = magic(shell, "ls")
    text = result.to_text()
    row = next(line for line in text.splitlines() if line.startswith(REPO) and FILE in line)
    assert "Q4_K_M" in row and "llama" in row and "131072" in row
    assert f"{REPO}:Q4_K_M, chat" in row
    assert "could not be read as GGUF" in text and "junk-Q8_0.gguf" in text
    assert magic(shell, "models").to_text() == text  # the alias

    as_json = magic(shell, "ls --json")
    assert isinstance(as_json, JsonView)
    rows = {r["filename"]: r for r in as_json.to_json()}
    good = rows[FILE]
    assert (good["architecture"], good["context_length"], good["quantization"]) == (
        "llama", 131072, "Q4_K_M")
    assert good["has_chat_template"] is True and good["aliases"] == [f"{REPO}:Q4_K_M", "chat"]
    assert good["size"] == downloaded.stat().st_size and good["problem"] is None
    assert "not a GGUF file" in rows["junk-Q8_0.gguf"]["problem"]


def test_ls_reports_a_deeply_nested_gguf_and_lists_the_others(
        shell: InteractiveShell, downloaded: Path, hf_cache: Path, tmp_path: Path) -> None:
    """Issue 8 item 11: one GGUF with arrays nested 100,000 deep made ``ls`` fail for every
    model with RecursionError."""
    deep = nested_array_gguf(tmp_path / "deep.gguf", 100_000)
    put_in_hf_cache(hf_cache, "evil/nested-GGUF", "nested-Q4_0.gguf", deep)
    text = magic(shell, "ls").to_text()
    assert FILE in text and "could not be read as GGUF" in text
    assert "nested-Q4_0.gguf" in text and "nested more than" in text
    rows = {r["filename"]: r for r in magic(shell, "ls --json").to_json()}
    assert rows[FILE]["problem"] is None and rows[FILE]["architecture"] == "llama"
    assert "nested more than" in rows["nested-Q4_0.gguf"]["problem"]


def test_ls_with_an_empty_cache(shell: InteractiveShell) -> None:
    text = magic(shell, "ls").to_text()
    assert "(no GGUF files yet; `%bodhi help pull`" in text
    assert magic(shell, "alias ls").to_text().endswith(
        "(no aliases; `%bodhi alias create NAME --repo R --file F`)")


def test_broken_alias_files_are_notices(shell: InteractiveShell, isolated_env: Path) -> None:
    magic(shell, "alias create good --repo acme/tiny --file t.gguf")
    (isolated_env / "aliases" / "bad.yaml").write_text("alias: [\n")
    result = magic(shell, "alias ls")
    text = result.to_text()
    assert "good" in text
    assert "skipped 1 alias file(s)" in text
    assert f"{isolated_env / 'aliases' / 'bad.yaml'}: YAML error" in text
    payload = magic(shell, "alias ls --json").to_json()
    assert [a["alias"] for a in payload["aliases"]] == ["good"]
    (problem,) = payload["problems"]
    assert problem["path"].endswith("bad.yaml") and "line" in problem["error"]
    assert magic(shell, "alias ls --json").to_json()["problems"]  # stable across calls


def test_hostile_alias_files_are_one_coded_line(shell: InteractiveShell, isolated_env: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 8 item 10: an alias file with ``max_tokens: .inf`` hid every alias
    (OverflowError), and a YAML bomb hung every command that lists aliases."""
    magic(shell, "alias create good --repo acme/tiny --file t.gguf")
    folder = isolated_env / "aliases"
    (folder / "inf.yaml").write_text("alias: inf\nrepo: acme/tiny\nfilename: t.gguf\n"
                                     "request_params: {max_tokens: .inf}\n")
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]"
        for i in range(8)]
    (folder / "bomb.yaml").write_text("\n".join(levels) + "\nalias: bomb\n")
    text = magic(shell, "alias ls").to_text()
    assert "good" in text and "skipped 2 alias file(s)" in text
    assert "inf.yaml" in text and "bomb.yaml" in text and "anchors" in text
    capsys.readouterr()
    for name in ("inf", "bomb"):
        assert shell.run_line_magic("bodhi", f'chat {name} "hi"') is None
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error[data_service_error-alias_file]: ")
        assert f"{name}.yaml" in err[0]


@pytest.mark.parametrize("option", ["max_tokens=1e999", "temperature=abc", "top_p=[1]"])
def test_bad_chat_options_are_one_coded_line(shell: InteractiveShell, option: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_line_magic("bodhi", f'chat nope "hi" -o {option!r}') is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error[chat_service_error-bad_param]: "), err
    assert main(["chat", "nope", "hi", "-o", option]) == 1
    assert capsys.readouterr().err.startswith("error[chat_service_error-bad_param]: ")


# -- CLI ------------------------------------------------------------------------------------

def test_cli_main_exit_codes(downloaded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alias", "create", "x", "--repo", REPO, "--file", FILE, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alias"] == "x" and out["snapshot"] == downloaded.parent.name
    assert main(["alias", "create", "x", "--repo", REPO, "--file", FILE]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[data_service_error-alias_exists]") and "`bodhi alias rm x`" in err
    assert main(["alias", "create", "x"]) == 2
    capsys.readouterr()
    assert main(["alias", "ls"]) == 0
    assert "x" in capsys.readouterr().out
    assert main(["alias", "rm", "x"]) == 0
    assert main(["alias", "rm", "x"]) == 1
    assert "alias_not_found" in capsys.readouterr().err


def test_cli_in_a_child_process(downloaded: Path, subprocess_env: dict[str, str],
                                isolated_env: Path) -> None:
    def bodhi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bodhi_nb.cli", *args],
                              env=subprocess_env, capture_output=True, text=True, timeout=60)

    made = bodhi("alias", "create", "llama3:instruct", "--repo", REPO, "--file", FILE,
                 "--ctx", "--ctx-size 2048")
    assert made.returncode == 0, made.stderr
    assert (isolated_env / "aliases" / "llama3--instruct.yaml").exists()
    (isolated_env / "aliases" / "broken.yaml").write_text(":\n  - [")
    listed = bodhi("alias", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    payload = json.loads(listed.stdout)
    user = [a for a in payload["aliases"] if a["source"] == "user"]
    assert user[0]["context_params"] == ["--ctx-size 2048"]
    assert payload["problems"][0]["path"].endswith("broken.yaml")
    missing = bodhi("alias", "show", "nope")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error[data_service_error-alias_not_found]")


def test_commands_module_stays_light(subprocess_env: dict[str, str]) -> None:
    code = ("import sys, bodhi_nb.commands.models, bodhi_nb.services.data, "
            "bodhi_nb.services.hf_cache, bodhi_nb.gguf\n"
            "print(sorted(m for m in ('numpy', 'gguf', 'yaml', 'huggingface_hub', 'duckdb')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env,
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


# -- option parsing -------------------------------------------------------------------------

def test_request_params_parsing() -> None:
    params = parse_request_params(["temperature=0.5", "max-tokens=64", "stop=###",
                                   "stop=END", "seed=7", "user=me", "top_p=1"])
    assert params.to_dict() == {"temperature": 0.5, "max_tokens": 64, "stop": ["###", "END"],
                                "seed": 7, "user": "me", "top_p": 1.0}
    with pytest.raises(OutOfRangeError):
        parse_request_params(["top_p=1.5"])
    with pytest.raises(OutOfRangeError):
        parse_request_params(["temperature=nan"])
    with pytest.raises(InvalidValueError):
        parse_request_params(["max_tokens=lots"])
    for bad in ("temperature", "warmth=1", "=1"):
        with pytest.raises(BadArgumentsError):
            parse_request_params([bad])


def test_context_params_parsing() -> None:
    assert parse_context_params(["ctx-size=4096", "n_ctx=8192", "--n-gpu-layers=99",
                                 "flash-attn", "c=512", "--rope-scaling linear",
                                 "chat-template-file=/tmp/my file.jinja"]) == (
        "--ctx-size 4096", "--ctx-size 8192", "--n-gpu-layers 99", "--flash-attn", "-c 512",
        "--rope-scaling linear", "--chat-template-file '/tmp/my file.jinja'")
    for bad in ("", "ctx-size=", "a b", "x=1\n2", "-"):
        with pytest.raises(BadArgumentsError):
            parse_context_params([bad])


# -- alias create asks the Hub about a file that is not downloaded (issue 8, item 15) ---------


@pytest.fixture
def offline_hub(hub: Any, tmp_path: Path) -> Any:
    """The offline hub with one repo, acme/tiny, holding tiny-Q4_K_M.gguf."""
    model = make_gguf(tmp_path / "hubsrc.gguf", arch="llama", context_length=2048)
    hub.add_repo("acme/tiny", {"tiny-Q4_K_M.gguf": model})
    return hub


def test_alias_create_refuses_a_file_the_hub_does_not_have(shell: InteractiveShell,
                                                           offline_hub: object,
                                                           isolated_env: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    assert shell.run_line_magic(
        "bodhi", "alias create typo --repo acme/tiny --file tiny-Q4_K_X.gguf") is None
    err = capsys.readouterr().err
    assert "error[hub_service_error-remote_file_not_found]" in err
    assert not (isolated_env / "aliases" / "typo.yaml").exists()
    created = magic(shell, "alias create ok --repo acme/tiny --file tiny-Q4_K_M.gguf")
    text = created.to_text()
    assert "not downloaded yet" in text and "Could not check" not in text
    assert (isolated_env / "aliases" / "ok.yaml").exists()


def test_alias_create_offline_saves_with_a_warning(shell: InteractiveShell, isolated_env: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    created = magic(shell, "alias create later --repo acme/tiny --file t.gguf")
    assert "Could not check with the Hub" in created.to_text()
    assert (isolated_env / "aliases" / "later.yaml").exists()
