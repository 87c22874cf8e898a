"""Issue 10 test (c): the models panel in JupyterLab in a real Chromium.

Fake GGUF models of different sizes in the test's HF cache; ``%bodhi panel models``; click
the size header (rows in size order, read from the DOM), type in the filter box (only the
matching rows), delete one through the confirm strip (gone from the table and from disk).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from _browser_support import ROOT, OpenNotebook

from bodhi_nb.testing.gguf_files import make_gguf, put_in_hf_cache
from bodhi_nb.testing.jupyterlab import time_to_first_visible

PANEL = ".bodhi-models-panel"
FILES = f"{PANEL} .bodhi-col-file"

#: (repo, file, size in KiB): listed by repo, which is neither size order nor its reverse.
MODELS = (
    ("acme/alpha-GGUF", "alpha-Q4_K_M.gguf", 2048),
    ("beta/gamma-GGUF", "gamma-Q5_K_M.gguf", 1024),
    ("mid/tiny-GGUF", "tiny-Q2_K.gguf", 512),
    ("zeta/big-GGUF", "big-Q8_0.gguf", 3072),
)
BY_REPO = [m[1] for m in sorted(MODELS)]


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    """The models in the test's HF cache: file name -> the snapshot entry."""
    cache = Path(os.environ["HF_HOME"]) / "hub"
    placed = {}
    for repo, filename, kib in MODELS:
        source = make_gguf(tmp_path / "src" / filename, size_bytes=kib << 10,
                           context_length=4096)
        placed[filename] = put_in_hf_cache(cache, repo, filename, source)
    return placed


def test_models_panel_sorts_filters_and_deletes_in_the_browser(
        open_notebook: OpenNotebook, models: dict[str, Path]) -> None:
    nb = open_notebook([
        "import os, sys, bodhi_nb\nprint('python', sys.executable)\n"
        "print('bodhi_nb', bodhi_nb.__file__)\nprint('home', os.environ['HF_HOME'])",
        "%load_ext bodhi_nb",
        "%bodhi panel models",
    ])
    assert nb.run_all()
    # The kernel is this interpreter, importing the code under test, with the test's HF_HOME.
    out = nb.outputs_text()
    assert f"python {sys.executable}" in out
    assert f"bodhi_nb {ROOT / 'bodhi_nb' / '__init__.py'}" in out
    assert f"home {os.environ['HF_HOME']}" in out

    listed = nb.wait_texts(FILES, BY_REPO)
    assert sorted(listed) == sorted(models)
    by_size = [m[1] for m in sorted(MODELS, key=lambda m: m[2])]
    assert listed != by_size and listed != by_size[::-1]  # so the sort has work to do

    nb.click(f"{PANEL} .bodhi-sort-size")
    assert nb.wait_texts(FILES, by_size) == by_size
    assert nb.texts(f"{PANEL} .bodhi-sort-size") == ["size ▲"]
    nb.click(f"{PANEL} .bodhi-sort-size")
    assert nb.wait_texts(FILES, by_size[::-1]) == by_size[::-1]
    sizes = nb.texts(f"{PANEL} .bodhi-col-size")
    assert sizes[0].startswith("3") and sizes[-1].startswith("512")
    nb.screenshot("models-sorted-by-size")

    nb.fill(f"{PANEL} .bodhi-filter", "Q5_K")
    assert nb.wait_texts(FILES, ["gamma-Q5_K_M.gguf"]) == ["gamma-Q5_K_M.gguf"]
    nb.fill(f"{PANEL} .bodhi-filter", "a-")  # alpha-, gamma-, still biggest first
    two = ["alpha-Q4_K_M.gguf", "gamma-Q5_K_M.gguf"]
    assert nb.wait_texts(FILES, two) == two
    nb.fill(f"{PANEL} .bodhi-filter", "alpha")
    assert nb.wait_texts(FILES, ["alpha-Q4_K_M.gguf"]) == ["alpha-Q4_K_M.gguf"]
    nb.screenshot("models-filtered")

    confirm = f"{PANEL} .bodhi-confirm"
    assert not nb.page.locator(confirm).is_visible()
    nb.click(f"{PANEL} .bodhi-action-delete")
    nb.wait_for(confirm)
    question = nb.texts(f"{PANEL} .bodhi-confirm-question")
    assert len(question) == 1 and "alpha-Q4_K_M.gguf" in question[0]
    nb.screenshot("models-confirm-delete")
    assert models["alpha-Q4_K_M.gguf"].exists()  # nothing is removed before Yes
    blob = models["alpha-Q4_K_M.gguf"].resolve()
    nb.click(confirm, "Yes")

    assert nb.wait_texts(FILES, []) == []
    nb.wait_for(confirm, state="hidden")
    nb.wait_for_text("alpha-Q4_K_M.gguf", f"{PANEL} .bodhi-status")
    assert nb.texts(f"{PANEL} .bodhi-error") == [""]
    nb.fill(f"{PANEL} .bodhi-filter", "")
    rest = ["big-Q8_0.gguf", "gamma-Q5_K_M.gguf", "tiny-Q2_K.gguf"]
    assert nb.wait_texts(FILES, rest) == rest
    # Gone from the HF cache on disk: the snapshot entry and its blob; the others stay.
    assert not models["alpha-Q4_K_M.gguf"].is_symlink() and not blob.exists()
    assert all(path.exists() for name, path in models.items() if name != "alpha-Q4_K_M.gguf")


def test_time_to_first_row_is_measured_in_the_page(open_notebook: OpenNotebook,
                                                   models: dict[str, Path]) -> None:
    # The bench's measure: from the execute request to the first row visible.
    nb = open_notebook(["%load_ext bodhi_nb", "%bodhi panel models",
                        "raise ValueError('a cell that fails')"])
    assert nb.run_cell(0)
    seconds = time_to_first_visible(nb, 1, f"{PANEL} .bodhi-cell")
    assert seconds > 0  # a duration, not a bound: the bench reports it
    assert nb.wait_texts(FILES, BY_REPO) == BY_REPO
    nb.wait_cells_done()
    assert nb.texts(".jp-InputPrompt")[:2] == ["[1]:", "[2]:"]
    # A run says whether its cells raised.
    assert nb.run_cell(2) is False
    assert "ValueError: a cell that fails" in nb.outputs_text()
