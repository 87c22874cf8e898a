"""LocalizationService: error messages from Fluent catalogues (en-US, fr-FR).

The message id is the error code. A message missing in the chosen locale falls back to
en-US, and a code missing everywhere falls back to the generic ``bodhi_error`` message, so a
user never sees a raw code alone.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bodhi_nb.errors import BodhiError, UnsupportedLocaleError

__all__ = ["DEFAULT_LOCALE", "SUPPORTED_LOCALES", "LocalizationService"]

DEFAULT_LOCALE = "en-US"
SUPPORTED_LOCALES = ("en-US", "fr-FR")
_LOCALES = Path(__file__).resolve().parents[1] / "locales"


class LocalizationService:
    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise UnsupportedLocaleError(locale=locale, supported=SUPPORTED_LOCALES)
        self.locale = locale
        self._bundles: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _bundle(self, locale: str) -> Any:
        with self._lock:
            if locale not in self._bundles:
                from fluent.runtime import FluentBundle, FluentResource

                bundle = FluentBundle([locale], use_isolating=False)
                # One catalogue per area (errors.ftl, ...), all in one bundle per locale.
                for path in sorted((_LOCALES / locale).glob("*.ftl")):
                    bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
                self._bundles[locale] = bundle
            return self._bundles[locale]

    def has_message(self, code: str, locale: str) -> bool:
        return bool(self._bundle(locale).has_message(code))

    def message(self, code: str, args: Mapping[str, str] | None = None,
                locale: str | None = None) -> str:
        """The localized text for ``code``; placeholders filled from ``args``."""
        args = dict(args or {})
        for loc in (locale or self.locale, DEFAULT_LOCALE):
            bundle = self._bundle(loc)
            if bundle.has_message(code):
                text, _errors = bundle.format_pattern(bundle.get_message(code).value, args)
                return str(text)
        return self.message("bodhi_error", {"code": code}, locale)

    def render(self, error: BodhiError, extra: Mapping[str, str] | None = None,
               locale: str | None = None) -> str:
        args = {**(extra or {}), "code": error.code, **error.params}
        return self.message(error.code, args, locale)
