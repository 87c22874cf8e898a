"""LocalizationService: every user-facing text from Fluent catalogues (en-US, fr-FR).

An error's message id is its code; other texts (table headings, confirmations, help) have ids
named for their area (``ui-...``, ``col-...``, ``hub-...``). Each area keeps its own catalogue
file (``errors.ftl``, ``ui.ftl``, ...) and every ``*.ftl`` of a locale folder is loaded. A
message missing in the chosen locale falls back to en-US, and an id missing everywhere falls
back to the caller's ``default`` or else the generic ``bodhi_error`` message, so a user never
sees a raw id alone.
"""

from __future__ import annotations

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

# Parsed catalogues, shared by every service of the process: they never change at run time.
_BUNDLES: dict[str, Any] = {}
_BUNDLES_LOCK = threading.Lock()


def clip(text: str, limit: int = MAX_ARG_CHARS) -> str:
    """``text`` if short enough, else its start and end around an ellipsis."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def _bundle(locale: str) -> Any:
    with _BUNDLES_LOCK:
        if locale not in _BUNDLES:
            from fluent.runtime import FluentBundle, FluentResource

            bundle = FluentBundle([locale], use_isolating=False)
            # One catalogue per area (errors.ftl, ui.ftl, ...), all in one bundle per locale.
            for path in sorted((_LOCALES / locale).glob("*.ftl")):
                bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
            _BUNDLES[locale] = bundle
        return _BUNDLES[locale]


class LocalizationService:
    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise UnsupportedLocaleError(locale=locale, supported=SUPPORTED_LOCALES)
        self.locale = locale

    def has_message(self, code: str, locale: str | None = None) -> bool:
        return bool(_bundle(locale or self.locale).has_message(code))

    def message(self, code: str, args: Mapping[str, Any] | None = None,
                locale: str | None = None, *, default: str | None = None) -> str:
        """The localized text for ``code``; placeholders filled from ``args``.

        Text arguments are clipped to :data:`MAX_ARG_CHARS`; numbers stay numbers (Fluent
        formats them for the locale)."""
        values = {k: (v if isinstance(v, (int, float)) and not isinstance(v, bool)
                      else clip(str(v))) for k, v in (args or {}).items()}
        for loc in (locale or self.locale, DEFAULT_LOCALE):
            bundle = _bundle(loc)
            if bundle.has_message(code):
                text, _errors = bundle.format_pattern(bundle.get_message(code).value, values)
                return str(text)
        if default is not None:
            return default
        return self.message("bodhi_error", {"code": code}, locale)

    def render(self, error: BodhiError, extra: Mapping[str, str] | None = None,
               locale: str | None = None) -> str:
        args = {**(extra or {}), "code": error.code, **error.params}
        return self.message(error.code, args, locale)
