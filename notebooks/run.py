"""Execute a notebook headlessly and print what each cell showed (used by ``make demo``).

    python notebooks/run.py notebooks/00-status.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def _text(output: dict) -> str:  # type: ignore[type-arg]
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("text", ""))
    if kind in ("execute_result", "display_data"):
        return str(output.get("data", {}).get("text/plain", ""))
    if kind == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    return ""


def main(paths: list[str]) -> int:
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=1800, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
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
    sys.exit(main(sys.argv[1:] or ["notebooks/00-status.ipynb"]))
