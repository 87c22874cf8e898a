"""Tab completion for ``%bodhi``: commands, their sub-commands and options, alias names,
setting keys and the repositories in the Hugging Face cache.

Registered by ``%load_ext bodhi_nb`` as an IPython ``complete_command`` hook. Nothing is
computed or imported until the first Tab: the command table, the aliases and the cache are
read then (the registry is built only when alias names are wanted).
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["candidates", "complete_bodhi", "register", "unregister"]

_KEY = "%bodhi"
_KEYS = (_KEY, "%%bodhi")  # the line magic and the first line of a %%bodhi cell

# Which positional words name what: (command, sub-command or "") -> source of names.
_NAME_SOURCES: dict[tuple[str, str], str] = {
    ("help", ""): "commands",
    ("chat", ""): "models",
    ("settings", ""): "settings",
    ("pull", ""): "repos",
    ("rm", ""): "repos",
    ("alias", "show"): "aliases",
    ("alias", "rm"): "aliases",
    ("alias", "copy"): "aliases",
    ("api", "test"): "api_aliases",
    ("api", "set-key"): "api_aliases",
    ("api", "rm"): "api_aliases",
    ("secret", "rm"): "secrets",
    ("downloads", "retry"): "downloads",
    ("downloads", "archive"): "downloads",
}


def register(shell: Any) -> None:
    """Install the hook (``%load_ext``)."""
    for key in _KEYS:
        shell.set_hook("complete_command", complete_bodhi, str_key=key)


def unregister(shell: Any) -> None:
    """Remove the hook (``%unload_ext``)."""
    dispatcher = getattr(shell, "strdispatchers", {}).get("complete_command")
    if dispatcher is not None:
        for key in _KEYS:
            dispatcher.strs.pop(key, None)


def complete_bodhi(shell: Any, event: Any) -> list[str]:
    """IPython's hook: the candidates for the word under the cursor (IPython filters them
    by what is typed)."""
    from IPython.core.error import TryNext

    try:
        found = candidates(str(event.text_until_cursor or event.line))
    except Exception:  # a completer must never raise into the user's typing
        found = []
    if not found:
        raise TryNext  # let IPython's other completers (file names...) try
    return found


def candidates(line: str) -> list[str]:
    """Everything that may come at the end of ``line`` (a ``%bodhi ...`` line up to the
    cursor), sorted."""
    words = _words(line)
    if words and words[0].lstrip("%") in ("bodhi",):
        words = words[1:]
    if line.endswith((" ", "\t")) or not words:
        words.append("")
    *done, current = words
    from bodhi_nb.commands.grammar import COMMANDS, _load_commands

    _load_commands()
    if not done:
        return sorted(COMMANDS)
    command = COMMANDS.get(done[0])
    if command is None:
        return []
    parser = command.parser(_KEY)
    positionals = [w for w in done[1:] if not w.startswith("-")]
    sub_name, sub = _subcommand(parser, positionals)
    if current.startswith("-"):
        return sorted(_options(sub or parser))
    choices = _choices(parser)
    if choices and not positionals:
        return sorted(choices)
    source = _NAME_SOURCES.get((command.name, sub_name if choices else ""))
    if source is None or (choices and len(positionals) != 1) or (
            not choices and positionals):
        return []
    return sorted(set(_SOURCES[source]()))


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:  # an open quote: complete the raw words
        return line.split()


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    """The first positional's fixed choices (sub-commands and actions)."""
    for action in parser._actions:
        if action.option_strings:
            continue
        if action.choices:
            return [str(c) for c in action.choices]
        return []
    return []


def _subcommand(parser: argparse.ArgumentParser,
                positionals: list[str]) -> tuple[str, argparse.ArgumentParser | None]:
    if not positionals:
        return "", None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub = action.choices.get(positionals[0])
            return positionals[0], sub
    return positionals[0], None


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings
            if s.startswith("--") and a.help != argparse.SUPPRESS]


def _command_names() -> list[str]:
    from bodhi_nb.commands.grammar import COMMANDS

    return list(COMMANDS)


def _setting_keys() -> list[str]:
    from bodhi_nb.services.settings import SETTINGS

    return list(SETTINGS)


def _aliases(api_only: bool = False) -> list[str]:
    from bodhi_nb.app import app

    listing = app().data_service().list_aliases()
    api = [a.id for a in listing.api]
    if api_only:
        return api
    return [a.alias for a in (*listing.user, *listing.model)] + api


def _secret_names() -> list[str]:
    from bodhi_nb.app import app

    return [s.name for s in app().secret_service().list_secrets()]


def _download_ids() -> list[str]:
    from bodhi_nb.app import app

    return [r.id for r in app().download_service().list()]


def _repos() -> list[str]:
    """``owner/name`` of every model folder in the HF cache (names only: no file is read)."""
    from bodhi_nb.services.settings import SettingService

    root = Path(SettingService().hf_cache)
    out = []
    try:
        entries = os.listdir(root)
    except OSError:
        return []
    for entry in entries:
        parts = entry.split("--")
        if len(parts) == 3 and parts[0] == "models" and all(parts[1:]):
            out.append(f"{parts[1]}/{parts[2]}")
    return out


_SOURCES: dict[str, Callable[[], list[str]]] = {
    "commands": _command_names,
    "settings": _setting_keys,
    "aliases": _aliases,
    "models": lambda: _aliases() + _repos(),
    "api_aliases": lambda: _aliases(api_only=True),
    "repos": _repos,
    "secrets": _secret_names,
    "downloads": _download_ids,
}
