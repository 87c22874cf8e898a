"""The floor plan holds: SQL and database drivers live only under bodhi_nb/store/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import bodhi_nb

PACKAGE = Path(bodhi_nb.__file__).resolve().parent
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(TABLE|INDEX)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX))\b",
                 re.IGNORECASE | re.DOTALL)
DRIVERS = {"duckdb", "psycopg", "psycopg_pool", "sqlite3"}


def _strings_and_imports(path: Path) -> tuple[list[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings: list[str] = []
    imports: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            strings.append("".join(v.value for v in node.values
                                   if isinstance(v, ast.Constant) and isinstance(v.value, str)))
        elif isinstance(node, ast.Import):
            imports |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imports.add(node.module.split(".")[0])
    return strings, imports


def _docstrings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                found.add(doc)
    return found


def test_no_sql_and_no_driver_above_the_store() -> None:
    offenders: list[str] = []
    checked = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("store", "testing"):
            continue
        checked += 1
        strings, imports = _strings_and_imports(path)
        docs = _docstrings(path)
        offenders += [f"{relative}: imports {name}" for name in sorted(imports & DRIVERS)]
        offenders += [f"{relative}: SQL {s[:60]!r}" for s in strings
                      if s not in docs and SQL.search(s)]
    assert checked > 30  # the walk really saw the package
    assert offenders == []


def test_the_check_finds_sql_and_drivers(tmp_path: Path) -> None:
    """The detector itself: a module with SQL and a driver import is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text('import duckdb\nQ = f"SELECT id FROM {t} WHERE x = ?"\n'
                   'R = "DELETE FROM secrets WHERE name = ?"\n', encoding="utf-8")
    strings, imports = _strings_and_imports(bad)
    assert imports & DRIVERS == {"duckdb"}
    caught = [s for s in strings if SQL.search(s)]
    assert any(s.startswith("DELETE") for s in caught)
    assert any(s.startswith("SELECT id FROM") for s in caught)
