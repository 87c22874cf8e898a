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


def _catalogue(locale: str, name: str | None = None) -> dict[str, set[str]]:
    """Message id -> the variables it uses, from every .ftl of a locale (or one file)."""
    from fluent.syntax import FluentParser, ast
    from fluent.syntax.visitor import Visitor

    class Variables(Visitor):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.names: set[str] = set()

        def visit_VariableReference(self, node: ast.VariableReference) -> None:
            self.names.add(node.id.name)

    out: dict[str, set[str]] = {}
    for path in sorted((LOCALES / locale).glob(name or "*.ftl")):
        resource = FluentParser().parse(path.read_text(encoding="utf-8"))
        junk = [e for e in resource.body if isinstance(e, ast.Junk)]
        assert junk == [], f"{path}: unparsable entries {[j.content[:60] for j in junk]}"
        for entry in resource.body:
            if isinstance(entry, ast.Message):
                found = Variables()
                found.visit(entry)
                assert entry.id.name not in out, f"{locale}: {entry.id.name} defined twice"
                out[entry.id.name] = found.names
    return out


def test_catalogues_have_no_stray_messages_and_same_placeholders() -> None:
    codes = {cls.code for cls in all_error_classes()} | {"bodhi_error"}
    for locale in SUPPORTED_LOCALES:
        assert set(_catalogue(locale, "errors.ftl")) <= codes, \
            f"{locale}: messages for codes that do not exist"
    english, french = _catalogue("en-US"), _catalogue("fr-FR")
    assert sorted(set(english) - set(french)) == [], "untranslated into fr-FR"
    assert sorted(set(french) - set(english)) == [], "in fr-FR only"
    for mid, names in english.items():
        assert names == french[mid], mid


_ROOT = LOCALES.parent
_LITERAL_IDS = re.compile(
    r"""(?:\.t|message_text|\.message)\(\s*(?:f?)["']([a-z][A-Za-z0-9_-]*)["']""")
_TABLE_KEYS = re.compile(r"ctx\.table\(\s*\(([^)]*)\)")


def test_every_message_id_the_code_names_exists() -> None:
    english = _catalogue("en-US")
    named: set[str] = set()
    for path in _ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named |= {m for m in _LITERAL_IDS.findall(text) if "{" not in m}
        for keys in _TABLE_KEYS.findall(text):
            named |= {f"col-{k}" for k in re.findall(r'"([^"]+)"', keys)}
    named -= {"bodhi_error"} - set(english)
    assert sorted(named - set(english)) == []
    from bodhi_nb.commands.grammar import COMMANDS, _load_commands

    _load_commands()
    summaries = {f"cmd-{c.name}" for c in COMMANDS.values()}
    assert sorted(summaries - set(english)) == [], "command summaries missing from ui.ftl"


# What the English catalogue shows in these commands' output: none of it may appear in French.
_ENGLISH = ("what it does", "usage:", "positional arguments", "Settings", "package",
            "meaning", "master key", "language", "shows", "list the commands",
            "no secrets", "no aliases", "no API aliases", "Local models in", "no GGUF files",
            "database size", "schema version", "saved to", "not yet available",
            "default", "a setting, e.g.", "show the versions", "print JSON",
            "none yet", "item", "HF cache")
_SHOWN = ("help", "help settings", "help alias", "version", "status", "status --verbose",
          "settings", "settings BODHI_KEEP_ALIVE_SECS", "settings BODHI_KEEP_ALIVE_SECS 60",
          "secret ls", "api ls", "alias ls", "ls")


def _shown(locale: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from bodhi_nb.app import app, reset_apps
    from bodhi_nb.commands import Context, execute

    reset_apps()
    monkeypatch.setenv("BODHI_LOCALE", locale)
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")
    # A profile's name is the user's data, not a word of ours: its default, "default",
    # would read as English left in the French listing of the settings.
    monkeypatch.setenv("BODHI_PROFILE", "p1")
    out = []
    for line in _SHOWN:
        result = execute(line.split(), Context(prog="%bodhi"), app)
        out += [result.to_text(), result.to_markdown(), result.to_html()]
    reset_apps()
    return "\n".join(out)


def test_french_output_has_no_english_left(monkeypatch: pytest.MonkeyPatch) -> None:
    def found(words: tuple[str, ...], text: str) -> list[str]:
        return [w for w in words if re.search(rf"(?<![\w.-]){re.escape(w)}(?![\w.-])", text)]

    english = _shown("en-US", monkeypatch)
    assert found(_ENGLISH, english) == list(_ENGLISH), \
        f"the list names words en-US never shows: {set(_ENGLISH) - set(found(_ENGLISH, english))}"
    french = _shown("fr-FR", monkeypatch)
    assert found(_ENGLISH, french) == []
    assert "Réglages" in french and "utilisation :" in french and "réglage" in french


def test_a_long_argument_is_clipped_not_refused() -> None:
    loc = LocalizationService("en-US")
    text = loc.render(BusyError(path="p" * 5000, pid=1, seconds=2))
    assert "{???}" not in text and text.startswith("The database ppp")
    assert "…" in text and len(text) < 600


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
    missing = sorted(b for b in branches if b not in (errors.__doc__ or "")
                     and not b.startswith("_"))
    assert missing == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_renders_as_fluent_renders_it(locale: str) -> None:
    """The service parses messages one at a time and fills plain ones itself: the result
    must be exactly what fluent.runtime gives for the whole catalogue."""
    from fluent.runtime import FluentBundle, FluentResource

    bundle = FluentBundle([locale], use_isolating=False)
    for path in sorted((LOCALES / locale).glob("*.ftl")):
        bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
    loc = LocalizationService(locale)
    catalogue = _catalogue(locale)
    assert catalogue, locale
    for mid, names in catalogue.items():
        for count in (0, 1, 7):
            args: dict[str, object] = {n: f"<{n}>" for n in names}
            args.update({n: count for n in names if n == "count"})
            args.update({n: "yes" for n in names if n.startswith("has_")})
            expected, _errors = bundle.format_pattern(bundle.get_message(mid).value, args)
            assert loc.message(mid, args) == expected, mid


def test_success_output_does_not_load_fluent_runtime(python: str,
                                                     subprocess_env: dict[str, str]) -> None:
    import subprocess

    code = ("import sys\n"
            "from bodhi_nb.services.localization import LocalizationService\n"
            "loc = LocalizationService('fr-FR')\n"
            "print(loc.message('ui-settings-saved', {'key': 'K', 'value': 'V'}))\n"
            "print('fluent.runtime' in sys.modules, 'babel' in sys.modules)\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["K = V (enregistré dans settings.yaml)", "False False"]
