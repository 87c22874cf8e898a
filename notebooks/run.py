"""Execute notebooks headlessly and print what each cell showed (used by ``make demo``).

    python notebooks/run.py notebooks/00-status.ipynb
    python notebooks/run.py --save notebooks/*.ipynb   # store the outputs in the files

``--save`` writes the executed outputs back, as strict nbval (``make notebooks``) expects
them. Run it from a clean state so the stored outputs are what a first run shows::

    BODHI_HOME=$(mktemp -d) HF_HOME=$(mktemp -d) python notebooks/run.py --save notebooks/*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient


def _text(output: dict[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("text", ""))
    if kind in ("execute_result", "display_data"):
        return str(output.get("data", {}).get("text/plain", ""))
    if kind == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    return ""


def execute(path: str | Path, timeout: int = 1800) -> Any:
    """The notebook at ``path``, executed in a fresh python3 kernel whose working
    directory is the notebook's folder."""
    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return nb


def main(args: list[str]) -> int:
    save = "--save" in args
    paths = [a for a in args if a != "--save"] or ["notebooks/00-status.ipynb"]
    for path in paths:
        nb = execute(path)
        if save:
            nbformat.write(nb, path)
            print(f"=== {path} (outputs saved)")
        else:
            print(f"=== {path}")
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            print(f"\n>>> {cell.source}")
            for output in cell.get("outputs", []):
                text = _text(output).rstrip()
                if text:
                    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
