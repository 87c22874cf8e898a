"""The quick start re-runs identically (issue 8 item 23), checked without a browser.

nbclient runs notebooks/01-quickstart.ipynb twice in a real python3 kernel, each time from
a clean BODHI_HOME and HF_HOME, and the outputs of every code cell must be identical once
notebooks/sanitize.cfg (the file strict nbval uses in ``make notebooks``) has masked what
legitimately varies: timings, speeds, process ids and temp paths. The demo's local hub,
llama.cpp and the Gemma 3 270M GGUF are the real peers.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: nbval compares these outputs' fields (it skips metadata and execution counts).
_SKIPPED_MIMES = ("application/vnd.jupyter.widget-view+json",)


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The regex/replace pairs of notebooks/sanitize.cfg, in file order, read by nbval."""
    from nbval.plugin import get_sanitize_patterns

    text = (NOTEBOOKS / "sanitize.cfg").read_text(encoding="utf-8")
    return [(re.compile(regex), replace) for regex, replace in get_sanitize_patterns(text)]


def sanitize(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replace in rules:
        text = pattern.sub(replace, text)
    return text


def shown(nb: Any, rules: list[tuple[re.Pattern[str], str]]) -> list[list[dict[str, Any]]]:
    """Per code cell, its outputs as nbval compares them, sanitized."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            kind = output["output_type"]
            if kind == "stream":
                outputs.append({"stream": output["name"],
                                "text": sanitize(output["text"], rules)})
            elif kind in ("display_data", "execute_result"):
                outputs.append({kind: {mime: sanitize(value if isinstance(value, str)
                                                      else json.dumps(value), rules)
                                       for mime, value in output["data"].items()
                                       if mime not in _SKIPPED_MIMES}})
            else:
                outputs.append({kind: f"{output.get('ename')}: {output.get('evalue')}"})
        cells.append(outputs)
    return cells


def run_quickstart(home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        from run import execute  # notebooks/run.py, as `make demo` runs it
    finally:
        sys.path.remove(str(NOTEBOOKS))
    monkeypatch.setenv("BODHI_HOME", str(home / "bodhi"))
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    return execute(NOTEBOOKS / "01-quickstart.ipynb", timeout=900)


def test_the_quickstart_gives_identical_outputs_run_after_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")  # a shared 2-core machine
    rules = sanitizers()
    first = run_quickstart(tmp_path / "first", monkeypatch)
    second = run_quickstart(tmp_path / "second", monkeypatch)
    one, two = shown(first, rules), shown(second, rules)
    for index, (a, b) in enumerate(zip(one, two, strict=True)):
        assert a == b, f"code cell {index} differs between two runs"
    flat = json.dumps(one)
    assert "error" not in {k for cell in one for output in cell for k in output}, flat
    assert "Traceback" not in flat and "error[" not in flat
    # The demo hub's random port never shows (only 127.0.0.1, without a port; sanitize.cfg
    # masks ports as PORT for the notebooks that show their servers' addresses).
    assert not re.search(r"127\.0\.0\.1(?::|%3A)(?:\d|PORT)", flat), flat
    # Every chat answered (a base model's empty answers were the bug of item 22).
    assert "empty answer" not in flat
    assert "answer captured: True" in flat


def test_every_notebook_says_what_it_shows_and_is_checked_strictly() -> None:
    """Each notebook opens with a Markdown cell titling what it shows, stores the outputs
    strict nbval compares (no error among them), and opts no cell out of the comparison."""
    import nbformat

    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.name[:2] for p in notebooks} == {"00", "01", "02", "03", "04", "05"}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "markdown" and first.source.startswith("# "), path.name
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert code and any(cell.outputs for cell in code), f"{path.name}: no stored outputs"
        for cell in code:
            assert not re.search(r"NBVAL_(IGNORE_OUTPUT|SKIP|RAISES_EXCEPTION)", cell.source), (
                f"{path.name}: a cell opts out of strict nbval")
            assert all(o["output_type"] != "error" for o in cell.outputs), path.name
            assert cell.execution_count is not None, f"{path.name}: a cell never ran"
