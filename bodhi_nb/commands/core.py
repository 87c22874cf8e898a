"""The registry's own commands: help, version, status, settings."""

from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from bodhi_nb._version import __version__
from bodhi_nb.commands.grammar import COMMANDS, Command, Context, command, command_names
from bodhi_nb.commands.results import Message, Result, Sections, Table, human_bytes
from bodhi_nb.errors import BadArgumentsError

__all__ = ["HelpCommand", "SettingsCommand", "StatusCommand", "VersionCommand"]


@command
class HelpCommand(Command):
    name = "help"
    summary = "list the commands, or show one command's arguments"

    @dataclass(frozen=True)
    class Request:
        topic: str | None = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("topic", nargs="?", help="a command name")

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        if request.topic:
            found = COMMANDS.get(request.topic)
            if found is None:
                raise BadArgumentsError(command="help",
                                        reason=f"no command named {request.topic!r}")
            return Message(found.parser(ctx.prog).format_help().rstrip())
        rows = [(name, COMMANDS[name].summary) for name in command_names()]
        table = Table(("command", "what it does"), rows, title=f"{ctx.prog} COMMAND [ARGS]")
        hint = Message(f"`{ctx.prog} help COMMAND` shows a command's arguments; "
                       "--debug on any command shows the traceback of an error.")
        return Sections((("commands", table), ("hint", hint)))


def _versions() -> list[tuple[str, str]]:
    rows = [("bodhi_nb", __version__), ("python", platform.python_version())]
    for dist in ("duckdb", "huggingface_hub", "httpx", "ipython", "ipywidgets"):
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, "not installed"))
    return rows


@command
class VersionCommand(Command):
    name = "version"
    summary = "show the versions of bodhi_nb and its main dependencies"

    @dataclass(frozen=True)
    class Request:
        json: bool = False

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        return Table(("package", "version"), _versions())


def _settings_table(app: Any) -> Table:
    rows = [(s.key, s.value, s.source.value) for s in app.setting_service().all()]
    return Table(("setting", "value", "source"), rows, title="Settings")


@command
class StatusCommand(Command):
    name = "status"
    summary = "show BODHI_HOME, the database and its schema, and the settings in force"

    @dataclass(frozen=True)
    class Request:
        json: bool = False

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        settings = app.setting_service()
        db = app.db_service()
        version = db.schema_version()
        latest = max((m.version for m in db.migrations), default=0)
        size = db.path.stat().st_size if db.path.exists() else 0
        rows: list[tuple[str, Any]] = [
            ("bodhi_nb", __version__),
            ("BODHI_HOME", settings.home),
            ("database", db.path),
            ("database size", human_bytes(size)),
            ("schema version", f"{version} of {latest}"),
            ("tables", ", ".join(t for t in db.tables() if t != "schema_migrations")),
            ("locale", app.localization_service().locale),
            ("master key", app.secret_service().master_key_source()),
            ("services", ", ".join(n for n, ok in app.available().items() if ok)),
            ("not yet available", ", ".join(n for n, ok in app.available().items() if not ok)),
        ]
        summary = Table(("item", "value"), rows, title="bodhi status")
        return Sections((("status", summary), ("settings", _settings_table(app))))


@command
class SettingsCommand(Command):
    name = "settings"
    summary = "show settings with their sources, show one, or save KEY VALUE to settings.yaml"

    @dataclass(frozen=True)
    class Request:
        key: str | None = None
        value: str | None = None
        unset: bool = False
        json: bool = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("key", nargs="?", help="a setting, e.g. BODHI_LOCALE")
        parser.add_argument("value", nargs="?", help="the new value, saved to settings.yaml")
        parser.add_argument("--unset", action="store_true",
                            help="remove KEY from settings.yaml")

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        service = app.setting_service()
        if request.key is None:
            if request.unset:
                raise BadArgumentsError(command=self.name, reason="--unset needs a KEY")
            return _settings_table(app)
        if request.unset:
            now = service.unset(request.key)
            return Message(f"{now.key} = {now.value} ({now.source.value})",
                           data={"key": now.key, "value": now.value,
                                 "source": now.source.value})
        if request.value is None:
            one = service.setting(request.key)
            return Table(("setting", "value", "source", "meaning"),
                         [(one.key, one.value, one.source.value, one.help)])
        saved = service.set(request.key, request.value)
        notices: tuple[str, ...] = ()
        if saved.shadowed_by is not None:
            notices = (f"saved to {service.settings_file}, but the {saved.shadowed_by.value} "
                       f"value {saved.value!r} still wins until it is removed",)
        return Message(f"{saved.key} = {service.get(saved.key)} (saved to settings.yaml)",
                       notices, data={"key": saved.key, "value": service.get(saved.key),
                                      "source": saved.source.value})

