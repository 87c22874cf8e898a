from __future__ import annotations

import re
from pathlib import Path

import pytest

from bodhi_nb.commands import render_error
from bodhi_nb.errors import (
    BodhiError,
    BusyError,
    DbError,
    SettingInvalidValueError,
    all_error_classes,
)
from bodhi_nb.services.localization import SUPPORTED_LOCALES, LocalizationService
from bodhi_nb.testing import AppServiceStub

LOCALES = Path(__file__).resolve().parents[1] / "bodhi_nb" / "locales"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_error_code_has_a_message(locale: str) -> None:
    loc = LocalizationService(locale)
    missing = [cls.code for cls in all_error_classes() if not loc.has_message(cls.code, locale)]
    assert missing == [], f"{locale} lacks messages for {missing}"


def test_catalogues_have_no_stray_messages_and_same_placeholders() -> None:
    codes = {cls.code for cls in all_error_classes()} | {"bodhi_error"}
    catalogues = {}
    for locale in SUPPORTED_LOCALES:
        text = (LOCALES / locale / "errors.ftl").read_text(encoding="utf-8")
        entries = dict(re.findall(r"^([a-z_][a-z0-9_-]*) = (.*)$", text, re.M))
        assert set(entries) <= codes, f"{locale}: messages for codes that do not exist"
        catalogues[locale] = entries
    for code, en in catalogues["en-US"].items():
        fr = catalogues["fr-FR"].get(code, "")
        assert set(re.findall(r"\{ \$(\w+) \}", en)) == set(re.findall(r"\{ \$(\w+) \}", fr)), code


def test_codes_are_derived_from_class_names() -> None:
    assert BusyError.code == "db_error-busy"
    assert SettingInvalidValueError.code == "setting_service_error-invalid_value"
    assert DbError.is_branch and not BusyError.is_branch
    for cls in all_error_classes():
        assert re.fullmatch(r"[a-z_]+-[a-z_]+", cls.code), cls.code


def test_switching_locale_changes_the_rendered_line(tmp_path: Path) -> None:
    app = AppServiceStub(tmp_path).build()
    error = BusyError(path="/x/bodhi.duckdb", pid=4242, seconds=30)
    english = render_error(error, app_factory=lambda: app)
    assert english.startswith("error[db_error-busy]: The database /x/bodhi.duckdb is busy")
    assert "4242" in english
    app.setting_service().set("BODHI_LOCALE", "fr-FR")
    french = render_error(error, app_factory=lambda: app)
    assert french.startswith("error[db_error-busy]: La base de données /x/bodhi.duckdb")
    assert french != english
    app.db_service().close()


def test_missing_translation_falls_back_to_english_then_generic() -> None:
    loc = LocalizationService("fr-FR")

    class _ProbeError(DbError):
        pass

    text = loc.render(_ProbeError())
    assert text.startswith("Erreur inattendue (db_error-_probe)") or "db_error" in text
    assert loc.message("db_error-busy", {"path": "p", "pid": "1", "seconds": "2"},
                       locale="en-US").startswith("The database p")


def test_error_rendering_never_leaks_a_traceback_or_foreign_message() -> None:
    line = render_error(ValueError("secret=hunter2"))
    assert line.startswith("error[command_error-internal]")
    assert "hunter2" not in line and "Traceback" not in line
    assert isinstance(BusyError(path="p", pid=1, seconds=2), BodhiError)
    envelope = BusyError(path="p", pid=1, seconds=2).to_envelope("m")
    assert envelope == {"error": {"message": "m", "type": "service_unavailable",
                                  "code": "db_error-busy",
                                  "params": {"path": "p", "pid": "1", "seconds": "2"}}}


def test_the_module_docstring_draws_every_branch() -> None:
    import bodhi_nb.errors as errors

    branches = {cls.__name__ for cls in BodhiError.__subclasses__()}
    all_error_classes()  # imports every module that defines errors
    branches |= {cls.__name__ for cls in BodhiError.__subclasses__()}
    missing = sorted(b for b in branches if b not in (errors.__doc__ or "")
                     and not b.startswith("_"))
    assert missing == []
