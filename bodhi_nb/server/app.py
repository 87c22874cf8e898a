"""The Starlette application of ``bodhi serve``: OpenAI's routes over the registry's services.

Routes::

    GET  /health                 {"status": "ok"} (no token needed)
    GET  /v1/models              every alias (user, model, API) in OpenAI's list shape
    POST /v1/chat/completions    ChatService: stream (SSE) or not
    POST /v1/embeddings          ChatService.embed: local aliases only
    GET  /bodhi/v1/downloads     the download requests (power_user and above)

A chat request goes through :meth:`ChatService.complete` / :meth:`ChatService.open_stream`:
the same alias resolution (user > model > API), parameter merge, local llama.cpp server
(started on demand, kept alive, one at a time, requests admitted FIFO) and API forwarding
as ``%bodhi chat``. Every exchange is written to the chat history, unless the request says
not to: a body field ``"bodhi_no_log": true`` (taken out before the request travels on) or
a header ``X-Bodhi-No-Log: 1``.

Errors are OpenAI's envelope ``{"error": {"message", "type", "code", "param"}}`` with the
status of the error's type (BodhiApp §10: 400, 401, 403, 404, 409, 422, 500, 503), and 429
for a provider's rate limit (with its ``Retry-After``). ``message`` is the error's line from
the Fluent catalogues in the registry's locale, ``code`` the error code, ``param`` the JSON
of its arguments (BodhiApp's shape). An error after a stream has begun is sent as one more
event carrying the envelope, then the stream ends.

Who asks (:mod:`bodhi_nb.server.access`): a request is authenticated by its bearer token
when it has one; without one it is served only when the endpoint is open (loopback, no
OpenID login, no ``--require-token``). Each request runs as its token's user and role, so
the services' policy gate applies the token's scope.

Service calls are blocking: they run in worker threads (anyio's pool, raised to
:data:`WORKER_THREADS`), so the event loop keeps serving while a request waits for the local
model or a provider.
"""

from __future__ import annotations

import array
import base64
import json
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bodhi_nb.errors import (
    AiRateLimitedError,
    BodhiError,
    InternalError,
    ServeBadFieldError,
    ServeBadJsonError,
    ServeMethodNotAllowedError,
    ServeRouteNotFoundError,
)
from bodhi_nb.redact import get_logger, scrub
from bodhi_nb.server.access import Access
from bodhi_nb.services.chat import CompletionRequest, CompletionStream, EmbeddingRequest

if TYPE_CHECKING:
    from bodhi_nb.app import AppService

__all__ = ["NO_LOG_FIELD", "NO_LOG_HEADER", "WORKER_THREADS", "create_app", "envelope"]

#: the body field that keeps a request out of the chat history
NO_LOG_FIELD = "bodhi_no_log"
#: the header that does the same (``1``, ``true`` or ``yes``)
NO_LOG_HEADER = "x-bodhi-no-log"
#: worker threads for blocking service calls: every streaming client holds one while it
#: waits for its next token, and requests queued for the local server wait in one
WORKER_THREADS = 128
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_log = get_logger("bodhi_nb.server")
T = TypeVar("T")


def envelope(error: BodhiError, registry: AppService) -> tuple[int, dict[str, Any]]:
    """The HTTP status and OpenAI error body for ``error`` (see the module docstring)."""
    try:
        message = registry.localization_service().render(error, {"prog": "bodhi"})
    except Exception:  # noqa: BLE001 - the error must still be answered
        message = str(error)
    status = error.status
    kind = str(error.error_type)
    if isinstance(error, AiRateLimitedError):
        status, kind = 429, "rate_limit_error"
    elif isinstance(error, ServeMethodNotAllowedError):
        status = 405
    param = json.dumps(error.params, sort_keys=True) if error.params else None
    return status, {"error": {"message": scrub(message), "type": kind, "code": error.code,
                              "param": param}}


def _error_response(error: BodhiError, registry: AppService) -> JSONResponse:
    status, body = envelope(error, registry)
    headers = {}
    retry = error.params.get("retry_after", "")
    if status == 429 and retry.isdigit():
        headers["Retry-After"] = retry
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(registry: AppService, access: Access) -> Starlette:
    """The ASGI application serving ``registry``'s models; ``access`` decides who may ask."""

    def as_error(exc: BaseException) -> BodhiError:
        if isinstance(exc, BodhiError):
            return exc
        _log.warning("bodhi serve: unexpected %s", type(exc).__name__, exc_info=exc)
        return InternalError(kind=type(exc).__name__)

    def endpoint(handler: Callable[[Request], Awaitable[Response]]
                 ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # noqa: BLE001 - every failure is an envelope
                return _error_response(as_error(exc), registry)
        return run

    async def call(request: Request, work: Callable[[], T]) -> T:
        """``work`` in a worker thread, as the request's caller (authenticated there: an
        API token is looked up in the database)."""
        header = request.headers.get("authorization")

        def as_caller() -> T:
            with access.acting(header):
                return work()

        return await run_in_threadpool(as_caller)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": await call(request, _model_list(
            registry))})

    async def chat_completions(request: Request) -> Response:
        body = await _json_body(request)
        stream = body.pop("stream", False)
        if not isinstance(stream, bool):
            raise ServeBadFieldError(field="stream", reason="expected true or false")
        log = not _no_log(request, body)
        chat = registry.chat_service()
        completion = CompletionRequest(body, log=log)
        if not stream:
            return JSONResponse(await call(request, lambda: chat.complete(completion)))
        opened = await call(request, lambda: chat.open_stream(completion))
        return StreamingResponse(_sse(opened, registry), media_type="text/event-stream",
                                 headers=_SSE_HEADERS)

    async def embeddings(request: Request) -> Response:
        body = await _json_body(request)
        model, text = body.get("model"), body.get("input")
        if not isinstance(model, str) or not model:
            raise ServeBadFieldError(field="model", reason="expected the name of an alias")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise ServeBadFieldError(field="encoding_format", reason="float or base64")
        if not isinstance(text, (str, list)):
            raise ServeBadFieldError(field="input", reason="expected a text or a list of texts")
        chat = registry.chat_service()
        result = await call(request, lambda: chat.embed(EmbeddingRequest(model, text)))
        data = [{"object": "embedding", "index": i,
                 "embedding": _b64(vector) if encoding == "base64" else vector}
                for i, vector in enumerate(result.vectors)]
        return JSONResponse({"object": "list", "data": data, "model": result.model,
                             "usage": {"prompt_tokens": result.prompt_tokens,
                                       "total_tokens": result.prompt_tokens}})

    async def downloads(request: Request) -> Response:
        service = registry.download_service()
        rows = await call(request, lambda: [r.to_dict() for r in service.list()])
        return JSONResponse({"object": "list", "data": rows})

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        error: BodhiError
        if status == 405:
            error = ServeMethodNotAllowedError(method=request.method, path=request.url.path)
        elif status == 404:
            error = ServeRouteNotFoundError(method=request.method, path=request.url.path)
        else:
            error = InternalError(kind=f"HTTP {status}")
        return _error_response(error, registry)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        yield

    routes = [
        Route("/health", endpoint(health), methods=["GET"]),
        Route("/v1/models", endpoint(models), methods=["GET"]),
        Route("/v1/chat/completions", endpoint(chat_completions), methods=["POST"]),
        Route("/v1/embeddings", endpoint(embeddings), methods=["POST"]),
        Route("/bodhi/v1/downloads", endpoint(downloads), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: not_found})


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServeBadJsonError(reason=type(exc).__name__) from None
    if not isinstance(body, dict):
        raise ServeBadJsonError(reason="expected a JSON object")
    return body


def _no_log(request: Request, body: dict[str, Any]) -> bool:
    field = body.pop(NO_LOG_FIELD, False)
    if not isinstance(field, bool):
        raise ServeBadFieldError(field=NO_LOG_FIELD, reason="expected true or false")
    header = request.headers.get(NO_LOG_HEADER, "").strip().lower()
    return field or header in ("1", "true", "yes")


def _model_list(registry: AppService) -> Callable[[], list[dict[str, Any]]]:
    def listing() -> list[dict[str, Any]]:
        aliases = registry.data_service().list_aliases()
        out: dict[str, dict[str, Any]] = {}
        for local in (*aliases.user, *aliases.model):
            out.setdefault(local.alias, {"id": local.alias, "object": "model", "created": 0,
                                         "owned_by": local.source.value})
        for api in aliases.api:
            created = int(api.created_at.timestamp()) if api.created_at else 0
            for name in api.models:
                model = (api.prefix or "") + name
                out.setdefault(model, {"id": model, "object": "model", "created": created,
                                       "owned_by": api.id})
        return list(out.values())
    return listing


async def _sse(stream: CompletionStream, registry: AppService) -> AsyncIterator[str]:
    """The stream as server-sent events; the stream is closed (the history written, the
    local server released) however it ends, a client that goes away included."""
    events: Iterator[str] = iter(stream)

    def step() -> str | None:
        return next(events, None)

    ended = False
    try:
        while True:
            data = await run_in_threadpool(step)
            if data is None:
                break
            yield f"data: {data}\n\n"
        ended = True
        yield "data: [DONE]\n\n"
    except Exception as exc:  # noqa: BLE001 - the status is sent: say it in the stream
        error = exc if isinstance(exc, BodhiError) else InternalError(kind=type(exc).__name__)
        yield f"data: {json.dumps(envelope(error, registry)[1])}\n\n"
    finally:
        if ended:
            # Closed (the history written) beside the end of the response: the client's
            # answer does not wait for the database.
            threading.Thread(target=stream.close, name="bodhi-serve-close",
                             daemon=True).start()
        else:  # a failure, or a client gone
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(stream.close)


def _b64(vector: list[float]) -> str:
    """OpenAI's ``encoding_format: base64``: little-endian float32, base64."""
    packed = array.array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
