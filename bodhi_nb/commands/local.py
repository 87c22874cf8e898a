"""``ps``: the llama.cpp server this kernel runs for local aliases (and stopping it), and the
``serve`` endpoint when one runs."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bodhi_nb.commands.grammar import Command, Context, command
from bodhi_nb.commands.results import Message, Result, Sections, Table

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.local_llm import ServerInfo

__all__ = ["PsCommand", "duration"]


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``."""
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    return f"{total // 3600}h{total % 3600 // 60:02d}m"


@dataclass(frozen=True, repr=False)
class _ServerTable(Table):
    """Text shows durations; JSON keeps every field of each server."""

    infos: tuple[ServerInfo, ...] = ()

    def to_json(self) -> object:
        return [i.to_dict() for i in self.infos]


#: a server's state (LocalLlmService) -> its message.
_STATES = {"starting": "ps-state-starting", "busy": "ps-state-busy", "idle": "ps-state-idle"}


def _table(infos: list[ServerInfo], ctx: Context) -> _ServerTable:
    rows = [(i.alias, i.pid, i.port, ctx.t(_STATES[i.state]) if i.state in _STATES else i.state,
             duration(i.uptime_seconds),
             "" if i.state == "busy" else duration(i.idle_seconds), Path(i.model_path).name)
            for i in infos]
    keys = ("alias", "pid", "port", "state", "uptime", "idle", "model_file")
    return _ServerTable(tuple(ctx.heading(k) for k in keys), rows,
                        title=ctx.t("ps-title"), empty=ctx.t("ps-none"), infos=tuple(infos))


@dataclass(frozen=True)
class PsRequest:
    stop: bool = False
    json: bool = False


@command
class PsCommand(Command[PsRequest]):
    name = "ps"
    summary = "show the llama.cpp server running local models in this kernel; --stop stops it"
    Request = PsRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stop", action="store_true",
                            help="stop the server now (the next chat starts it again)")

    def run(self, app: AppService, request: PsRequest, ctx: Context) -> Result:
        from bodhi_nb.server import serving

        service = app.local_llm_service()
        infos = service.running()
        if not request.stop:
            endpoint = serving.current()
            if endpoint is None:
                return _table(infos, ctx)
            shown = Message(ctx.t("ps-endpoint", url=endpoint.url,
                                  since=endpoint.started_at.strftime("%H:%M:%S")),
                            data=endpoint.to_dict())
            return Sections((("servers", _table(infos, ctx)), ("endpoint", shown)))
        stopped = service.stop()
        if not stopped:
            return Message(ctx.t("ps-stopped-none"), data={"stopped": []})
        names = ", ".join(f"{i.alias} (pid {i.pid})" for i in infos)
        return Message(ctx.t("ps-stopped", names=names),
                       data={"stopped": [i.to_dict() for i in infos]})
