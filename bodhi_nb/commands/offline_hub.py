"""``hub``: serve a folder of model repositories as an offline Hugging Face Hub.

``bodhi hub serve DIR`` serves until Ctrl-C (the terminal holds the :class:`HubServing`
result, see ``bodhi_nb.cli``); ``%bodhi hub serve DIR`` returns at once and serves from the
background of the kernel until ``%bodhi hub stop`` (or ``hub serve --stop``). Students point
``HF_ENDPOINT`` at the URL it prints. The server is :mod:`bodhi_nb.offline_hub`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from bodhi_nb.commands.grammar import Context, Group, Verb, command
from bodhi_nb.commands.results import Message, Result, Serving
from bodhi_nb.errors import BadArgumentsError

__all__ = ["HubCommand", "HubServing"]

@dataclass(frozen=True, repr=False)
class HubServing(Serving):
    """``hub serve``'s answer: where the offline Hub serves. A terminal keeps the process
    alive until Ctrl-C, then calls :meth:`stop` and prints ``stopped``."""

    def stop(self) -> None:
        """Stop the offline Hub this process serves."""
        from bodhi_nb.offline_hub import serving

        serving.stop()


@dataclass(frozen=True)
class HubServeRequest:
    """``hub serve DIR [--port P] [--host H]``; ``hub serve --stop`` stops."""

    folder: str | None = None
    port: int = 0
    host: str = "127.0.0.1"
    stop: bool = False


@dataclass(frozen=True)
class HubStopRequest:
    """``hub stop``."""


def _stop(ctx: Context) -> Result:
    from bodhi_nb.offline_hub import serving

    endpoint = serving.stop()
    if endpoint is None:
        return Message(ctx.t("offline-hub-stopped-none"), data={"stopped": None})
    return Message(ctx.t("offline-hub-stopped", endpoint=endpoint), data={"stopped": endpoint})


class HubServe(Verb[HubServeRequest]):
    name = "serve"
    summary = "serve a folder of repositories (OWNER/NAME/files); --stop stops it"
    Request = HubServeRequest
    #: Serving needs no database, keyring or settings: only the folder.
    needs_app = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("folder", nargs="?",
                            help="the folder of repositories, laid out as OWNER/NAME/files")
        parser.add_argument("--port", type=int, default=0,
                            help="the port to listen on (default: any free port)")
        parser.add_argument("--host", default="127.0.0.1",
                            help="the interface to listen on (0.0.0.0 serves the room)")
        parser.add_argument("--stop", action="store_true",
                            help="stop the offline Hub this kernel serves")

    def answer(self, request: HubServeRequest, ctx: Context) -> Result:
        from bodhi_nb.offline_hub import serving

        if request.stop:
            if request.folder is not None:
                raise BadArgumentsError(command=self.group,
                                        reason=ctx.t("offline-hub-stop-no-folder"))
            return _stop(ctx)
        if request.folder is None:
            raise BadArgumentsError(command=self.group, reason=ctx.t("offline-hub-needs-folder"))
        if not 0 <= request.port <= 65535:
            raise BadArgumentsError(command=self.group,
                                    reason=ctx.t("offline-hub-bad-port", port=request.port))
        hub = serving.serve(request.folder, host=request.host, port=request.port)
        repos = hub.repo_ids()
        students = serving.lan_endpoint(hub)
        notices = [ctx.t("offline-hub-students", endpoint=students)]
        if not repos:
            notices.append(ctx.t("offline-hub-empty", root=str(hub.root)))
        if hub.host.startswith("127.") or hub.host == "localhost":
            notices.append(ctx.t("offline-hub-local-only"))
        notices.append(ctx.t("offline-hub-background") if ctx.prog.startswith("%")
                       else ctx.t("offline-hub-foreground"))
        return HubServing(
            ctx.t("offline-hub-serving", root=str(hub.root), repos=len(repos),
                  endpoint=hub.endpoint),
            tuple(notices),
            data={"endpoint": hub.endpoint, "students": students, "root": str(hub.root),
                  "repos": repos},
            stopped=ctx.t("offline-hub-stopped", endpoint=hub.endpoint))


class HubStop(Verb[HubStopRequest]):
    name = "stop"
    summary = "stop the offline Hub this kernel serves"
    Request = HubStopRequest
    needs_app = False

    def answer(self, request: HubStopRequest, ctx: Context) -> Result:
        return _stop(ctx)


@command
class HubCommand(Group):
    name = "hub"
    summary = ("serve a folder of models as an offline Hugging Face Hub for a classroom: "
               "serve DIR, stop")
    verbs = (HubServe(), HubStop())
