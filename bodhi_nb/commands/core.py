"""The registry's own commands: help, version, status, settings."""

from __future__ import annotations

import argparse
import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bodhi_nb._version import __version__
from bodhi_nb.commands.grammar import (
    Command,
    Context,
    command,
    command_names,
    commands,
    said,
    unknown_command,
)
from bodhi_nb.commands.results import Message, Result, Sections, human_bytes
from bodhi_nb.errors import BadArgumentsError

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.settings import Setting, SettingSource

__all__ = ["HelpCommand", "SettingsCommand", "StatusCommand", "VersionCommand"]


@dataclass(frozen=True)
class HelpRequest:
    topic: str | None = None


@command
class HelpCommand(Command[HelpRequest]):
    name = "help"
    summary = "list the commands, or show one command's arguments"
    needs_app = False
    Request = HelpRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("topic", nargs="?", help="a command name")

    def answer(self, request: HelpRequest, ctx: Context) -> Result:
        if request.topic:
            found = commands().get(request.topic)
            if found is None:
                raise unknown_command(request.topic)
            # argparse lays the help out in columns: keep it preformatted everywhere.
            return Message(found.help_text(ctx), preformatted=True)
        rows = [(name, commands()[name].summary_text(ctx)) for name in command_names()]
        table = ctx.table(("command", "what"), rows, title=ctx.t("ui-help-title"))
        hint = Message(ctx.t("ui-help-hint"))
        return Sections((("commands", table), ("hint", hint)))


def _versions(ctx: Context) -> list[tuple[str, str]]:
    from importlib import metadata

    rows = [("bodhi_nb", __version__), ("python", platform.python_version())]
    for dist in ("duckdb", "huggingface_hub", "httpx", "ipython", "ipywidgets"):
        try:
            rows.append((dist, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            rows.append((dist, ctx.t("ui-not-installed")))
    return rows


@dataclass(frozen=True)
class VersionRequest:
    json: bool = False


@command
class VersionCommand(Command[VersionRequest]):
    name = "version"
    summary = "show the versions of bodhi_nb and its main dependencies"
    needs_app = False
    Request = VersionRequest

    def answer(self, request: VersionRequest, ctx: Context) -> Result:
        return ctx.table(("package", "version"), _versions(ctx))


def _source(ctx: Context, source: SettingSource) -> str:
    value = str(source.value)
    return ctx._messages().message(f"ui-source-{value}", default=value)


def _settings_table(app: AppService, ctx: Context) -> Result:
    service = app.setting_service()
    settings = service.all()
    rows = [(s.key, s.shown, _source(ctx, s.source)) for s in settings]
    records = [{"setting": s.key, "value": _json_value(s), "source": s.source.value}
               for s in settings]
    table = ctx.table(("setting", "value", "source"), rows, title=ctx.t("ui-settings-title"),
                      records=records)
    problems = _problems(app, ctx)
    if not problems:
        return table
    return Sections((("settings", table), ("problems", Message(problems[0], problems[1:]))))


def _json_value(setting: Setting) -> object:
    """The typed value, unless showing it would reveal credentials (then the masked text)."""
    return setting.value if setting.shown == str(setting.value) else setting.shown


def _problems(app: AppService, ctx: Context) -> tuple[str, ...]:
    """What is wrong in settings.yaml, one localized line each (the defaults are in use)."""
    messages = ctx._messages()
    return tuple(f"{p.code}: {messages.render(p, {'prog': ctx.prog})}"
                 for p in app.setting_service().problems())


@dataclass(frozen=True)
class StatusRequest:
    verbose: bool = False
    json: bool = False


@command
class StatusCommand(Command[StatusRequest]):
    name = "status"
    summary = "show where bodhi keeps its data, the Hub it pulls from and the models it has"
    Request = StatusRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-v", "--verbose", action="store_true",
                            help="also the database, its schema and tables, the services "
                                 "and every setting")

    def run(self, app: AppService, request: StatusRequest, ctx: Context) -> Result:
        from bodhi_nb.redact import redact_url

        settings = app.setting_service()
        items: list[tuple[str, object]] = [
            ("bodhi_nb", __version__),
            ("BODHI_HOME", str(settings.home)),
            ("hf_cache", str(settings.hf_cache)),
            ("endpoint", redact_url(settings.get("HF_ENDPOINT"))),
            ("models", _models_count(app, ctx)),
            ("locale", app.localization_service().locale),
            ("login", _login(app, ctx)),
            # Where the key lives (environment, keyring, key file) needs no database; the
            # check that it opens the stored secrets does, so it waits for --verbose.
            ("master_key", said(ctx, app.secret_service().master_key_source()
                                if request.verbose
                                else app.keyring_service().describe_source(probe=False))),
        ]
        db = app.db_service()
        # Where the data lives needs no connection: plain status opens no database.
        items.append(("database", f"{db.backend}: {db.location}"))
        if request.verbose:
            info = db.info()
            items += [("schema_version", ctx.t("ui-status-schema",
                                               version=str(info.schema_version),
                                               latest=str(info.code_version))),
                      ("pending_migrations",
                       ", ".join(f"{m.version:04d}_{m.name}" for m in info.pending)
                       or ctx.t("ui-none"))]
            available = app.available()
            if info.backend == "duckdb":
                from pathlib import Path

                path = Path(info.location)
                items.append(("database_size",
                              human_bytes(path.stat().st_size if path.exists() else 0)))
            items += [
                ("tables", ", ".join(t for t in db.store.tables() if t != "schema_migrations")),
                ("services", ", ".join(n for n, ok in available.items() if ok)),
                ("not_available", ", ".join(n for n, ok in available.items() if not ok)),
            ]
        rows = [(_status_label(ctx, key), value) for key, value in items]
        records = [{"item": key, "value": value} for key, value in items]
        summary = ctx.table(("item", "value"), rows, title=ctx.t("ui-status-title"),
                            records=records)
        if not request.verbose:
            hint = Message(ctx.t("ui-status-hint"), _problems(app, ctx))
            return Sections((("status", summary), ("hint", hint)))
        return Sections((("status", summary), ("settings", _settings_table(app, ctx))))


def _status_label(ctx: Context, key: str) -> str:
    if key in ("bodhi_nb", "BODHI_HOME"):
        return key
    return ctx.t(f"ui-status-{key.replace('_', '-')}")


def _login(app: AppService, ctx: Context) -> str:
    """Who is logged in for this profile, and the role (never a token)."""
    from bodhi_nb.services.policy import short_role

    if not str(app.setting_service().get("BODHI_AUTH_ISSUER") or "").strip():
        # off: no AuthService is built (it would load the secret store's cryptography)
        return ctx.t("ui-status-login-off")
    try:
        auth = app.auth_service()
        identity = auth.current()
    except Exception as exc:  # status must always render
        return f"? ({getattr(exc, 'code', type(exc).__name__)})"
    if identity is None:
        return ctx.t("ui-status-login-nobody")
    return ctx.t("ui-status-login-user", user=identity.username, profile=auth.profile,
                 role=short_role(identity.role))


def _models_count(app: AppService, ctx: Context) -> str:
    from bodhi_nb.errors import AuthLoginRequiredError

    try:
        count = len(app.hub_service().list_local_models())
    except AuthLoginRequiredError:
        return ctx.t("ui-status-models-login")
    except Exception as exc:  # status must always render
        return f"? ({getattr(exc, 'code', type(exc).__name__)})"
    # Two messages rather than a plural selector: plain messages need no fluent.runtime.
    if count == 0:
        return ctx.t("ui-status-models-none")
    return ctx.t("ui-status-models-count", count=count)


@dataclass(frozen=True)
class SettingsRequest:
    key: str | None = None
    value: str | None = None
    unset: bool = False
    json: bool = False


@command
class SettingsCommand(Command[SettingsRequest]):
    name = "settings"
    summary = "show settings with their sources, show one, or save KEY VALUE to settings.yaml"
    Request = SettingsRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("key", nargs="?", help="a setting, e.g. BODHI_LOCALE")
        parser.add_argument("value", nargs="?", help="the new value, saved to settings.yaml")
        parser.add_argument("--unset", action="store_true",
                            help="remove KEY from settings.yaml")

    def run(self, app: AppService, request: SettingsRequest, ctx: Context) -> Result:
        service = app.setting_service()
        if request.key is None:
            if request.unset:
                raise BadArgumentsError(command=self.name, reason=ctx.t("ui-settings-unset-key"))
            return _settings_table(app, ctx)
        if request.unset:
            now = service.unset(request.key)
            return Message(ctx.t("ui-settings-now", key=now.key, value=now.shown,
                                 source=_source(ctx, now.source)), _moved(now, ctx),
                           data={"key": now.key, "value": _json_value(now),
                                 "source": now.source.value})
        if request.value is None:
            one = service.setting(request.key)
            meaning = ctx._messages().message(f"setting-{one.key}", default=one.help)
            return ctx.table(("setting", "value", "source", "meaning"),
                             [(one.key, one.shown, _source(ctx, one.source), meaning)],
                             records=[{"setting": one.key, "value": _json_value(one),
                                       "source": one.source.value, "meaning": one.help}])
        saved = service.set(request.key, request.value)
        notices = _moved(saved, ctx)
        if saved.shadowed_by is not None:
            notices += (ctx.t("ui-settings-shadowed", file=str(service.settings_file),
                              source=_source(ctx, saved.shadowed_by), value=repr(saved.shown)),)
        if saved.key == "BODHI_DATABASE_URL":
            # Services hold their tables: the store is chosen when a registry is built.
            notices += (ctx.t("store-url-next-registry"),)
        now = service.setting(saved.key)
        return Message(ctx.t("ui-settings-saved", key=saved.key, value=now.shown),
                       notices, data={"key": saved.key, "value": _json_value(now),
                                      "source": saved.source.value})


def _moved(setting: Setting, ctx: Context) -> tuple[str, ...]:
    """The notice for a write that had to start an unreadable settings.yaml over."""
    if setting.moved_aside is None:
        return ()
    return (ctx.t("settings-moved-aside", path=str(setting.moved_aside)),)
