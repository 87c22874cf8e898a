"""``serve``: the kernel's models as an OpenAI-compatible endpoint (:mod:`bodhi_nb.server`).

``%bodhi serve [--port P] [--host H] [--require-token]`` starts it in the background of the
kernel and returns at once with its base URL; ``%bodhi serve --stop`` stops it and ``%bodhi
ps`` lists it. ``bodhi serve`` in a terminal serves until Ctrl-C (the terminal holds the
:class:`EndpointServing` result, see ``bodhi_nb.cli``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bodhi_nb.commands.grammar import Command, Context, command
from bodhi_nb.commands.results import Message, Result, Serving
from bodhi_nb.errors import BadArgumentsError

if TYPE_CHECKING:
    from bodhi_nb.app import AppService

__all__ = ["EndpointServing", "ServeCommand"]


@dataclass(frozen=True, repr=False)
class EndpointServing(Serving):
    """``serve``'s answer: the base URL. A terminal serves until Ctrl-C."""

    def stop(self) -> None:
        from bodhi_nb.server import serving

        serving.stop()


@dataclass(frozen=True)
class ServeRequest:
    port: int = 0
    host: str = "127.0.0.1"
    require_token: bool = False
    stop: bool = False
    json: bool = False


@command
class ServeCommand(Command[ServeRequest]):
    name = "serve"
    summary = ("serve this kernel's models as an OpenAI-compatible endpoint (/v1/chat/"
               "completions, /v1/models, /v1/embeddings); --stop stops it")
    Request = ServeRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--port", type=int, default=0,
                            help="the port to listen on (default: any free port)")
        parser.add_argument("--host", default="127.0.0.1",
                            help="the interface to listen on (default 127.0.0.1: this "
                                 "machine only; another needs OpenID or --require-token)")
        parser.add_argument("--require-token", action="store_true",
                            help="every request needs an API token (`token create`)")
        parser.add_argument("--stop", action="store_true",
                            help="stop the endpoint this kernel serves")

    def run(self, app: AppService, request: ServeRequest, ctx: Context) -> Result:
        from bodhi_nb.server import serving

        if request.stop:
            url = serving.stop()
            if url is None:
                return Message(ctx.t("serve-stopped-none"), data={"stopped": None})
            return Message(ctx.t("serve-stopped", url=url), data={"stopped": url})
        if not 0 <= request.port <= 65535:
            raise BadArgumentsError(command=self.name,
                                    reason=ctx.t("serve-bad-port", port=request.port))
        endpoint = serving.serve(app, host=request.host, port=request.port,
                                 require_token=request.require_token)
        notices = [ctx.t("serve-example", url=endpoint.url)]
        notices.append(ctx.t("serve-token-required") if endpoint.require_token
                       else ctx.t("serve-open"))
        notices.append(ctx.t("serve-background") if ctx.prog.startswith("%")
                       else ctx.t("serve-foreground"))
        return EndpointServing(ctx.t("serve-serving", url=endpoint.url), tuple(notices),
                               data=endpoint.to_dict(),
                               stopped=ctx.t("serve-stopped", url=endpoint.url))
