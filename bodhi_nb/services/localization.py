"""LocalizationService: every user-facing text from Fluent catalogues (en-US, fr-FR).

An error's message id is its code; other texts (table headings, confirmations, help) have ids
named for their area (``ui-...``, ``col-...``, ``hub-...``). Each area keeps its own catalogue
file (``errors.ftl``, ``ui.ftl``, ...) and every ``*.ftl`` of a locale folder is loaded. A
message missing in the chosen locale falls back to en-US, and an id missing everywhere falls
back to the caller's ``default`` or else the generic ``bodhi_error`` message, so a user never
sees a raw id alone.

Catalogues are indexed, not parsed, when first used: each message is parsed when it is first
asked for. A message that is plain text with ``{ $name }`` placeholders (most of them) is
filled in here; one with a selector (plurals, variants) goes through ``fluent.runtime``,
which is imported then. Parsing every catalogue and importing ``fluent.runtime`` (and Babel)
up front cost more than a whole ``%bodhi status``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bodhi_nb.errors import BodhiError, UnsupportedLocaleError

__all__ = ["DEFAULT_LOCALE", "MAX_ARG_CHARS", "SUPPORTED_LOCALES", "LocalizationService",
           "clip"]

DEFAULT_LOCALE = "en-US"
SUPPORTED_LOCALES = ("en-US", "fr-FR")
_LOCALES = Path(__file__).resolve().parents[1] / "locales"
#: fluent.runtime refuses a placeable longer than 2,500 characters (it prints ``{???}``
#: instead of the whole message): arguments are shortened to this before formatting.
MAX_ARG_CHARS = 200

_ENTRY = re.compile(r"([a-zA-Z][a-zA-Z0-9_-]*)[ \t]*=[ \t]?(.*)")
_VARIABLE = re.compile(r"\{ *\$([a-zA-Z][a-zA-Z0-9_-]*) *\}")


def clip(text: str, limit: int = MAX_ARG_CHARS) -> str:
    """``text`` if short enough, else its start and end around an ellipsis."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


class _Catalogue:
    """One locale's messages: id -> source, parsed (and cached) one message at a time."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.sources: dict[str, str] = {}
        for path in sorted((_LOCALES / locale).glob("*.ftl")):
            self._index(path.read_text(encoding="utf-8"))
        self._simple: dict[str, str | None] = {}
        self._bundle: Any = None
        self._lock = threading.Lock()

    def _index(self, text: str) -> None:
        # An entry is its `id = ...` line and the indented lines under it (the catalogues'
        # tests parse every file with fluent.syntax, so this never meets anything else).
        entries: dict[str, list[str]] = {}
        current: list[str] | None = None
        for line in text.splitlines():
            if current is not None and line[:1] in (" ", "\t") and line.strip():
                current.append(line)
                continue
            match = _ENTRY.fullmatch(line)
            current = None
            if match:
                current = entries[match.group(1)] = [line]
        self.sources.update({k: "\n".join(v) for k, v in entries.items()})

    def format(self, message_id: str, args: Mapping[str, Any]) -> str:
        with self._lock:
            if message_id not in self._simple:
                self._simple[message_id] = _plain(self.sources[message_id])
            plain = self._simple[message_id]
        if plain is not None:
            return _VARIABLE.sub(lambda m: _show(args.get(m.group(1), m.group(0))), plain)
        return self._fluent(message_id, args)

    def _fluent(self, message_id: str, args: Mapping[str, Any]) -> str:
        with self._lock:
            if self._bundle is None:
                from fluent.runtime import FluentBundle

                self._bundle = FluentBundle([self.locale], use_isolating=False)
            if not self._bundle.has_message(message_id):
                from fluent.runtime import FluentResource

                self._bundle.add_resource(FluentResource(self.sources[message_id]))
            bundle = self._bundle
        text, _errors = bundle.format_pattern(bundle.get_message(message_id).value, args)
        return str(text)


def _plain(source: str) -> str | None:
    """The text of a one-line message whose only placeables are ``{ $name }``; else None."""
    if "\n" in source:
        return None
    match = _ENTRY.fullmatch(source)
    if match is None:
        return None
    value = match.group(2).strip()
    if "{" in _VARIABLE.sub("", value) or "}" in _VARIABLE.sub("", value):
        return None
    return value


def _show(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


_CATALOGUES: dict[str, _Catalogue] = {}
_CATALOGUES_LOCK = threading.Lock()


def _catalogue(locale: str) -> _Catalogue:
    with _CATALOGUES_LOCK:
        if locale not in _CATALOGUES:
            _CATALOGUES[locale] = _Catalogue(locale)
        return _CATALOGUES[locale]


class LocalizationService:
    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise UnsupportedLocaleError(locale=locale, supported=SUPPORTED_LOCALES)
        self.locale = locale

    def has_message(self, code: str, locale: str | None = None) -> bool:
        return code in _catalogue(locale or self.locale).sources

    def message(self, code: str, args: Mapping[str, Any] | None = None,
                locale: str | None = None, *, default: str | None = None) -> str:
        """The localized text for ``code``; placeholders filled from ``args``.

        Text arguments are clipped to :data:`MAX_ARG_CHARS`; numbers stay numbers (Fluent
        selects plural forms on them)."""
        values = {k: (v if isinstance(v, (int, float)) and not isinstance(v, bool)
                      else clip(str(v))) for k, v in (args or {}).items()}
        for loc in (locale or self.locale, DEFAULT_LOCALE):
            catalogue = _catalogue(loc)
            if code in catalogue.sources:
                return catalogue.format(code, values)
        if default is not None:
            return default
        return self.message("bodhi_error", {"code": code}, locale)

    def render(self, error: BodhiError, extra: Mapping[str, str] | None = None,
               locale: str | None = None) -> str:
        args = {**(extra or {}), "code": error.code, **error.params}
        return self.message(error.code, args, locale)
