"""What the notebook front end does to a line or a cell before the grammar sees it:
``{var}`` interpolation from the user's namespace, and dropping nbval's marker lines."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

__all__ = ["interpolate", "strip_markers"]

_FIELD = re.compile(r"\{([^{}\s][^{}]*)\}")
_MARKER = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$", re.MULTILINE)
_FORMATTER = string.Formatter()


def interpolate(text: str, namespace: Mapping[str, object] | None) -> str:
    """Replace ``{name}``, ``{obj.attr}``, ``{seq[0]}`` and ``{x:.2f}`` from the namespace.

    Anything that does not resolve (unknown names, JSON, code) is left exactly as written.
    No calls are evaluated: only attribute and item access, as ``str.format`` allows.
    """
    if not namespace:
        return text

    def replace(match: re.Match[str]) -> str:
        field = match.group(1)
        name, _, spec = field.partition(":")
        name, _, conversion = name.partition("!")
        try:
            value, _ = _FORMATTER.get_field(name.strip(), (), namespace)
            if conversion:
                value = _FORMATTER.convert_field(value, conversion)
            return str(_FORMATTER.format_field(value, spec))
        except Exception:
            return match.group(0)

    return _FIELD.sub(replace, text)


def strip_markers(text: str) -> str:
    """Drop nbval marker lines (``# NBVAL_CHECK_OUTPUT``) from a cell's prompt."""
    return _MARKER.sub("", text).strip("\n")
