"""Binder, rebuilt as far as this machine allows (issue 14): repo2docker cannot run here.

What mybinder.org does with ``binder/`` for this repository, step by step, with nothing of
this checkout's environment leaking in (no PYTHONPATH, no BODHI_* or HF_* variables, a fresh
HOME):

1. a fresh virtual environment, ``pip install -r binder/requirements.txt`` in it;
2. ``binder/postBuild`` run by bash in a copy of the repository (its tracked files and the
   new ones not ignored, as a commit of this working tree would hold them), with the fresh
   environment's ``python`` first on PATH;
3. at launch, ``binder/start`` wraps the command: here ``python notebooks/run.py --save
   notebooks/01-quickstart.ipynb``, the quick start executed headlessly in that
   environment's own python3 kernel, plus one cell that says which python and which
   bodhi_nb the kernel runs.

Then the executed quick start must hold no error, every chat must have answered, and the
kernel must have run the installed package from the fresh environment, with its state in
``$HOME/.bodhi`` (what ``start`` sets).

Two differences from Binder, both chosen for time: Binder's llama-cpp-python compiles from
source (about 20 minutes); here postBuild finds the portable wheel ``make setup`` built with
the same flags (``PIP_FIND_LINKS``) and this machine's pip cache (postBuild uses the cache
named by ``PIP_CACHE_DIR`` and otherwise none, so Binder's image keeps none). And the
Python is this machine's, not ``runtime.txt``'s (llama-cpp-python's wheel is not tied to
a Python version).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = "notebooks/01-quickstart.ipynb"
#: the cell appended to the quick start: which python and which bodhi_nb the kernel runs
PROBE = ("import sys, bodhi_nb\n"
         "print('kernel prefix:', sys.prefix)\n"
         "print('bodhi_nb from:', bodhi_nb.__file__)")


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-3000:]}\n"
        f"{done.stderr[-3000:]}")
    return done.stdout


def _copy_repository(dest: Path) -> None:
    """The files a commit of this working tree would hold (tracked, and new ones not
    ignored): not .venv, node_modules or caches."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:  # not a git checkout (an unpacked archive): all but the junk
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "build", "__pycache__", ".*_cache"))
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _pip_cache() -> tuple[str, str]:
    """This machine's pip cache (for what pip downloads), and the folder holding the portable
    llama-cpp-python wheel that ``make setup`` built (``LLAMA_WHEELS``), which postBuild's
    pip then finds instead of compiling: built with the same ``-DGGML_NATIVE=OFF`` as
    postBuild's, so it is the build Binder makes."""
    cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
                           text=True, check=True).stdout.strip()
    wheels = Path(os.environ.get("LLAMA_WHEELS")
                  or Path.home() / ".cache" / "bodhi_nb" / "llama-portable")
    assert list(wheels.glob("llama_cpp_python-*.whl")), (
        f"no portable llama-cpp-python wheel in {wheels}: `make setup` builds it once "
        "(5-20 min); without it postBuild would compile it here")
    return cache, str(wheels)


def _environment(home: Path, venv: Path, cache: tuple[str, str]) -> dict[str, str]:
    """A session's environment: this machine's pip configuration (indexes, certificates)
    and nothing of bodhi's, Jupyter's or this checkout's."""
    keep = {k: v for k, v in os.environ.items()
            if k.startswith("PIP_") or k in ("LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")}
    return {**keep, "HOME": str(home), "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "PIP_CACHE_DIR": cache[0], "PIP_FIND_LINKS": cache[1],
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1"}


def _text(output: dict[str, object]) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    data = output.get("data")
    return str(data.get("text/plain", "")) if isinstance(data, dict) else ""


def test_binder_installs_the_package_and_the_quickstart_chats(tmp_path: Path) -> None:
    cache = _pip_cache()
    repo, home, venv = tmp_path / "repo", tmp_path / "home", tmp_path / "venv"
    home.mkdir()
    _copy_repository(repo)
    env = _environment(home, venv, cache)

    # repo2docker: an environment with requirements.txt, then postBuild.
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env, timeout=120)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
         cwd=repo, env=env, timeout=600)
    _run(["bash", "binder/postBuild"], cwd=repo, env=env, timeout=900)

    # The launch: `start` wraps the command; the quick start runs in the environment's kernel.
    notebook = nbformat.read(repo / QUICKSTART, as_version=4)
    stored = len(notebook.cells)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    nbformat.write(notebook, repo / QUICKSTART)
    _run(["binder/start", "python", "notebooks/run.py", "--save", QUICKSTART],
         cwd=repo, env=env, timeout=900)

    ran = nbformat.read(repo / QUICKSTART, as_version=4)
    cells = [cell for cell in ran.cells if cell.cell_type == "code"]
    outputs = [output for cell in cells for output in cell.outputs]
    assert not [o for o in outputs if o["output_type"] == "error"], json.dumps(outputs)[:3000]
    shown = "\n".join(_text(o) for o in outputs)
    assert "Traceback" not in shown and "error[" not in shown, shown
    assert len(ran.cells) == stored + 1
    # Every chat answered: an answer line above each "— ALIAS · N tokens" summary.
    chats = [cell for cell in cells if "bodhi chat" in cell.source]
    assert len(chats) == 4
    for cell in chats:
        text = "".join(_text(o) for o in cell.outputs)
        answer = text.split("\n— ")[0].strip().splitlines()
        assert "\n— " in text and " tokens · " in text and answer and answer[-1].strip(), text
    assert "The capital of France is Paris." in shown
    assert "answer captured: True" in shown
    assert "downloaded" in shown  # the demo model pulled into the fresh HF cache
    # The kernel ran the fresh environment's python and the package postBuild installed
    # (not this checkout), with its state where `start` put it.
    probe = "".join(_text(o) for o in cells[-1].outputs)
    assert f"kernel prefix: {venv}" in probe, probe
    assert f"bodhi_nb from: {venv}/lib/" in probe and "site-packages/bodhi_nb/" in probe, probe
    assert (home / ".bodhi" / "bodhi.duckdb").is_file()
    assert list((home / ".cache" / "huggingface" / "hub").glob("models--bodhi-demo--*"))
