"""AiApiService: OpenAI-compatible providers, and the API aliases that point at them.

An **API alias** (table ``api_model_aliases``) names a provider's ``base_url`` (ending in
``/v1``), the models it serves, an optional ``prefix`` and ``forward_all_with_prefix``, as in
BodhiApp. A requested model matches an alias when the alias forwards everything under its
prefix, or when ``prefix + model`` is one of its models; the prefix is stripped before the
request goes out (``openai/gpt-4o`` -> ``gpt-4o``).

The API key is never stored in clear and never part of an alias object: it is sealed by
:class:`~bodhi_nb.services.secret.SecretService` as the internal secret
``bodhi:api_key:<row id>`` (AES-256-GCM, fresh salt and nonce, the name bound as AAD), in the
same transaction as the alias row. Keeping it in ``secrets`` rather than in the table's own
``encrypted_api_key`` columns means ``secret rotate-key`` re-seals API keys with everything
else. Lists show ``has_api_key`` only.

HTTP goes through one ``httpx.Client`` per base URL (created on first use, thread-safe, closed
by :meth:`AiApiService.close`), with ``trust_env=True`` so ``HTTP(S)_PROXY``/``NO_PROXY`` and
``SSL_CERT_FILE`` apply, a 10 s connect timeout and a long read timeout (small models on busy
CPUs stall for tens of seconds). ``Authorization: Bearer`` is sent only when a key exists.
Failures are translated here, once, into :class:`~bodhi_nb.errors.AiApiServiceError` leaves:
unreachable, unauthorized (401/403), model not found (404), rate limited (429, with
``Retry-After``), context too long (400/413/422 about the context), stream interrupted, bad
response. No error, log line or repr ever carries the key.

httpx is imported inside the methods that use it: ``%load_ext bodhi_nb`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bodhi_nb.errors import (
    AiAliasExistsError,
    AiAliasNotFoundError,
    AiApiServiceError,
    AiModelNotFoundError,
    AiRateLimitedError,
    AiUnauthorizedError,
    AiUnreachableError,
    BadResponseError,
    ContextTooLongError,
    EndpointNotFoundError,
    InvalidBaseUrlError,
    InvalidValueError,
    PrefixExistsError,
    RequestRejectedError,
    StreamInterruptedError,
    UnsupportedApiFormatError,
    UpstreamFailedError,
)
from bodhi_nb.objs import AliasSource, ApiAlias, ApiFormat, ChatTarget, new_ulid
from bodhi_nb.redact import SecretStr, get_logger, register_secret, scrub
from bodhi_nb.services.policy import Action, Gate, allow_all
from bodhi_nb.store import API_KEY_PREFIX  # (the alias table joins its secrets on it)
from bodhi_nb.store.api_aliases import ApiAliasesTable

if TYPE_CHECKING:
    import httpx

    from bodhi_nb.services.secret import SecretService
    from bodhi_nb.services.time import TimeService

__all__ = [
    "API_KEY_PREFIX",
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "AiApiService",
    "ChatDelta",
    "StreamEvent",
    "check_base_url",
]

CONNECT_TIMEOUT = 10.0
#: Long on purpose: a small model on two busy cores can stall for half a minute.
READ_TIMEOUT = 120.0
_TEST_PROMPT = "Say hello."
_TEST_MAX_TOKENS = 8
_MAX_REASON = 240
_CHAT_FORMATS = (ApiFormat.OPENAI,)
_CONTEXT = re.compile(
    r"context[ _-]?(length|window|size)|maximum context|too many tokens|exceed|too long",
    re.IGNORECASE)

_log = get_logger("bodhi_nb.ai_api")
#: Store.cached topic for the alias list and decrypted keys; bumped by every change.
_TOPIC = "api_aliases"


@dataclass(frozen=True)
class StreamEvent:
    """One SSE data event of a streamed chat completion: its JSON text as received, the
    object it parses to, and the :class:`ChatDelta` it carries (None for a chunk with no
    text, finish reason or usage: the role chunk, say)."""

    data: str
    chunk: dict[str, Any]
    delta: ChatDelta | None


@dataclass(frozen=True)
class ChatDelta:
    """One streamed chunk of a chat completion.

    ``text`` is the content delta (may be ``""``), ``finish_reason`` is set on the last
    content chunk, ``usage`` on the chunk that carries token counts (when the server sends
    them), ``model`` is the model the server says answered.
    """

    text: str
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model: str | None = None


def check_base_url(url: str) -> str:
    """A provider's base URL, normalised (no trailing ``/``); ``InvalidBaseUrlError`` unless
    it is an ``http(s)://host[:port][/path]`` URL without credentials, query or fragment
    (a key in a URL would be stored and shown in clear)."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises for a port that is not a number
    except ValueError:
        raise InvalidBaseUrlError(url=_shown_url(text), reason="it does not parse") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidBaseUrlError(url=_shown_url(text), reason="it must start with http:// "
                                  "or https://")
    if not parts.hostname:
        raise InvalidBaseUrlError(url=_shown_url(text), reason="it names no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidBaseUrlError(url=f"{parts.scheme}://***@{parts.hostname}",
                                  reason="credentials do not belong in the URL")
    if parts.query or parts.fragment or any(c.isspace() for c in text):
        raise InvalidBaseUrlError(url=f"{parts.scheme}://{parts.hostname}{parts.path}",
                                  reason="it may not have a query, a fragment or spaces")
    return text.rstrip("/")


def _shown_url(text: str) -> str:
    # Whatever was typed may hold a key: show the part before any query and '@'.
    head = text.split("?", 1)[0].split("#", 1)[0]
    if "@" in head:
        head = head.rsplit("@", 1)[1]
    return head[:120]


def _secret_name(row_id: str) -> str:
    return f"{API_KEY_PREFIX}{row_id}"


def _clean(text: str, key: str | None = None) -> str:
    """Text from a server, safe to show: one line, short, with known secrets masked."""
    if key:
        text = text.replace(key, "***")
    text = scrub(" ".join(text.split()))
    return text if len(text) <= _MAX_REASON else text[:_MAX_REASON - 1] + "…"


def _reason(exc: BaseException, key: str | None = None) -> str:
    return _clean(str(exc) or type(exc).__name__, key)


class AiApiService:
    """API aliases (stored in DuckDB, keys sealed by SecretService) and OpenAI-compatible
    HTTP: model lists, test prompts, chat completions (whole, streamed, forwarded)."""

    def __init__(self, aliases: ApiAliasesTable, secret: SecretService, time: TimeService, *,
                 connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT,
                 transport: Any = None, gate: Gate = allow_all) -> None:
        self._gate = gate
        self._aliases = aliases
        self._secret = secret
        self._time = time
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        # Only for tests that cannot run a real peer (httpx.MockTransport).
        self._transport = transport
        self._clients: dict[tuple[str, float], _Slot] = {}
        self._retired: list[_Slot] = []
        #: base URLs whose servers reject ``stream_options`` (usage in the last chunk)
        self._no_stream_options: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"AiApiService(clients={len(self._clients)})"

    # -- API aliases ----------------------------------------------------------------------

    def add_api_alias(self, alias: ApiAlias, api_key: str | None) -> ApiAlias:
        """Store ``alias`` (its ``id`` is the name) and its key, sealed, in one transaction.

        ``AiAliasExistsError`` if the name is taken, ``PrefixExistsError`` if another alias
        has the same non-empty prefix, ``InvalidBaseUrlError`` for a base URL that is not
        http(s).
        """
        self._gate(Action.API_KEYS)
        alias = self.check_new_alias(alias)
        key = (api_key or "").strip() or None
        if key is not None:
            register_secret(key)
            # Create the master key (if this is the very first secret) outside the
            # transaction below: key store first, then the database, as SecretService does.
            self._secret.ensure_key()
        now = self._time.utc_now()
        row_id = new_ulid(now)
        with self._aliases.transaction():
            self._aliases.hold_names()  # another host may be adding the same name
            self._check_free(alias)
            self._aliases.insert(row_id, alias, now)
            if key is not None:
                self._secret.store_internal(_secret_name(row_id), key)
        self._aliases.store.bump(_TOPIC)
        _log.info("added API alias %s -> %s (api key: %s)", alias.id, alias.base_url,
                  "yes" if key else "no")
        return self.get_api_alias(alias.id)

    def check_new_alias(self, alias: ApiAlias) -> ApiAlias:
        """``alias`` validated and normalised, if it could be added now: a valid name and
        base URL, a chat-capable format, and a name and prefix no other alias has. Lets a
        front end refuse before it asks for a key."""
        alias = self._validated(alias)
        with self._aliases.transaction():
            self._check_free(alias)
        return alias

    def set_api_key(self, name: str, api_key: str | None) -> ApiAlias:
        """Replace (or, with None/empty, remove) the key of alias ``name``."""
        self._gate(Action.API_KEYS)
        key = (api_key or "").strip() or None
        if key is not None:
            register_secret(key)
            self._secret.ensure_key()
        with self._aliases.transaction():
            row_id = self._row_id(name)
            if key is None:
                self._secret.delete_internal([_secret_name(row_id)])
            else:
                self._secret.store_internal(_secret_name(row_id), key)
            self._aliases.touch(row_id, self._time.utc_now())
        self._aliases.store.bump(_TOPIC)
        return self.get_api_alias(name)

    def list_api_aliases(self) -> list[ApiAlias]:
        """Every API alias by name, with ``has_api_key`` (never the key)."""
        self._gate(Action.MODELS)
        # Resolved before every chat request: reuse it until the database changes.
        return list(self._aliases.store.cached(_TOPIC, "list", self._aliases.list))

    def get_api_alias(self, name: str) -> ApiAlias:
        """The alias called ``name``; ``AiAliasNotFoundError`` if there is none."""
        found = self._aliases.get(name)
        if found is None:
            raise AiAliasNotFoundError(alias=name)
        return found

    def remove_api_alias(self, name: str) -> ApiAlias:
        """Delete alias ``name`` and its key together; returns what was removed."""
        self._gate(Action.API_KEYS)
        with self._aliases.transaction():
            removed = self.get_api_alias(name)
            row_id = self._row_id(name)
            self._aliases.delete(row_id)
            self._secret.delete_internal([_secret_name(row_id)])
        self._aliases.store.bump(_TOPIC)
        _log.info("removed API alias %s", name)
        return removed

    def api_key(self, name: str) -> SecretStr | None:
        """The decrypted key of alias ``name`` (redacted repr; registered for scrubbing),
        or None when the alias has no key."""
        def load() -> SecretStr | None:
            found: SecretStr | None = self._secret.retrieve_internal(
                _secret_name(self._row_id(name)))
            return found

        value: SecretStr | None = self._aliases.store.cached(_TOPIC, ("key", name), load)
        if value is None:
            return None
        register_secret(str(value))
        return SecretStr(value)

    # -- resolving a model name -----------------------------------------------------------

    def resolve(self, model: str) -> ChatTarget | None:
        """The target for a requested model name, by BodhiApp's matching: the first alias
        (by name) that forwards everything under its prefix or lists ``prefix + model``;
        else an alias whose name is ``model`` (its first model). None when nothing matches.
        """
        aliases = self.list_api_aliases()
        for alias in aliases:
            if alias.supports(model):
                return self.target(alias, model)
        for alias in aliases:
            if alias.id == model and alias.models:
                return self.target(alias, None)
        return None

    def target(self, alias: ApiAlias | str, model: str | None = None) -> ChatTarget:
        """A :class:`ChatTarget` for ``alias`` and a requested model name (prefix stripped).

        Without a model, or with the alias's own name, the alias's first model is used.
        """
        found = self.get_api_alias(alias) if isinstance(alias, str) else alias
        if found.api_format not in _CHAT_FORMATS:
            raise UnsupportedApiFormatError(alias=found.id, format=found.api_format.value,
                                            supported=[f.value for f in _CHAT_FORMATS])
        if model is None or (model == found.id and not found.supports(model)):
            if not found.models:
                raise AiModelNotFoundError(alias=found.id, model=model or "")
            sent = found.models[0]
        else:
            sent = found.strip_prefix(model)
        return ChatTarget(base_url=found.base_url, model=sent, alias=found.id,
                          source=AliasSource.API, api_key=self.api_key(found.id),
                          timeout=self.read_timeout)

    # -- provider calls -------------------------------------------------------------------

    def fetch_models(self, alias_name: str) -> list[str]:
        """Model ids the provider lists (``GET {base_url}/models``)."""
        alias = self.get_api_alias(alias_name)
        return self._list_models(alias.base_url, self.api_key(alias_name), alias.id)

    def test_api_key(self, alias_name: str) -> list[str]:
        """Check the alias's key with ``GET {base_url}/models``; returns the model ids.

        Raises ``AiUnauthorizedError`` for a rejected key, ``AiUnreachableError`` when the
        server cannot be reached.
        """
        self._gate(Action.API_TEST)
        return self.fetch_models(alias_name)

    def models_at(self, base_url: str, api_key: str | None, *, alias: str = "") -> list[str]:
        """Model ids at a base URL not stored yet (``api add`` without ``--models``)."""
        return self._list_models(check_base_url(base_url), api_key, alias or base_url)

    def test_model(self, alias_name: str, model: str | None = None) -> str:
        """A tiny chat request (``max_tokens`` 8) to ``model`` through the alias; returns the
        reply text (possibly empty: the point is that the request is accepted)."""
        self._gate(Action.API_TEST)
        target = self.target(alias_name, model)
        reply = self.chat_completion(target, {
            "messages": [{"role": "user", "content": _TEST_PROMPT}],
            "max_tokens": _TEST_MAX_TOKENS, "temperature": 0, "stream": False})
        return _message_text(reply)

    def chat_completion(self, target: ChatTarget, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST {base_url}/chat/completions`` without streaming; the OpenAI JSON answer."""
        return self._post_json(target, "chat/completions",
                               {**body, "model": target.model, "stream": False}, "choices")

    def stream_chat_completion(self, target: ChatTarget,
                               body: Mapping[str, Any]) -> Generator[ChatDelta, None, None]:
        """``POST {base_url}/chat/completions`` with ``stream: true``, parsed from SSE.

        Yields one :class:`ChatDelta` per chunk that carries text, a finish reason or usage.
        A connection that drops, or a stream that ends before ``[DONE]`` and before a
        finish reason, raises ``StreamInterruptedError`` (after the deltas received).
        Closing the generator early closes the connection.

        ``stream_options.include_usage`` is asked for unless the body sets
        ``stream_options``; a server that rejects the field is asked again without it (and
        remembered). llama_cpp.server ignores it and sends no usage while streaming.
        """
        # closing(): an early close of this generator closes the connection at once
        with closing(self._stream(target, body, ask_usage=True)) as events:
            for event in events:
                if event.delta is not None:
                    yield event.delta

    def stream_chat_events(self, target: ChatTarget,
                           body: Mapping[str, Any]) -> Generator[StreamEvent, None, None]:
        """The stream of ``POST {base_url}/chat/completions`` as the server sent it: one
        :class:`StreamEvent` per SSE data event (``[DONE]`` excluded), its JSON text
        unchanged beside what it says, for a front end that relays the stream
        (``bodhi serve``). Nothing is added to ``body`` (no ``stream_options``); errors are
        those of :meth:`stream_chat_completion`. The request is sent when the first event
        is asked for."""
        yield from self._stream(target, body, ask_usage=False)

    def embeddings(self, target: ChatTarget, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST {base_url}/embeddings``; the OpenAI JSON answer (``data`` checked)."""
        return self._post_json(target, "embeddings", {**body, "model": target.model}, "data")

    def _post_json(self, target: ChatTarget, path: str, payload: Mapping[str, Any],
                   listed: str) -> dict[str, Any]:
        """``POST {base_url}/{path}`` without streaming: the JSON answer, which must hold a
        list under ``listed`` (``choices``, ``data``)."""
        url = f"{target.base_url}/{path}"
        with self._slot(target) as slot:
            response = self._send(slot, target, "POST", url, payload, stream=False)
            self._raise_for_status(response, target, url)
            data = self._json(response, target, url)
        if not isinstance(data, dict) or not isinstance(data.get(listed), list):
            raise BadResponseError(alias=target.alias, url=url,
                                   reason=f"no '{listed}' list in the answer")
        return data

    def _stream(self, target: ChatTarget, body: Mapping[str, Any], *,
                ask_usage: bool) -> Generator[StreamEvent, None, None]:
        payload = {**body, "model": target.model, "stream": True}
        url = f"{target.base_url}/chat/completions"
        ask_usage = (ask_usage and "stream_options" not in body
                     and target.base_url not in self._no_stream_options)
        if ask_usage:
            payload["stream_options"] = {"include_usage": True}
        ended: _EndedEarly | None = None
        with self._slot(target) as slot:
            response = self._send(slot, target, "POST", url, payload, stream=True)
            if (ask_usage and response.status_code in (400, 422)
                    and self._refuses_stream_options(response)):
                # A strict server that rejects the field: remember, and ask again without it.
                self._no_stream_options.add(target.base_url)
                del payload["stream_options"]
                response = self._send(slot, target, "POST", url, payload, stream=True)
            try:
                self._raise_for_status(response, target, url)
                yield from self._events(response, target, url)
            except _EndedEarly as exc:
                ended = exc
                # Some servers (llama_cpp.server) close the connection just after such a
                # stream: never hand that connection to the next request.
                self._retire(slot)
            finally:
                response.close()
        if ended is None:
            return
        if ended.events == 0:
            # Nothing at all came back: the server failed after answering 200 (llama_cpp.server
            # does this for a prompt longer than its context). The same request without
            # streaming, generating one token, reports the real error.
            self._diagnose(target, payload)
        raise StreamInterruptedError(alias=target.alias, received=ended.received,
                                     reason="the stream ended before [DONE]")

    @staticmethod
    def _refuses_stream_options(response: httpx.Response) -> bool:
        import httpx

        try:
            body = response.read()
        except httpx.HTTPError:
            return False
        if b"stream_options" in body:
            response.close()
            return True
        return False  # the body stays readable: _raise_for_status reports it

    def forward_chat_completion(self, target: ChatTarget, body: Mapping[str, Any], *,
                                raise_for_status: bool = True) -> httpx.Response:
        """BodhiApp's forward: send ``body`` (model replaced by the target's) and return the
        open streaming response; the caller iterates and closes it. Error statuses raise the
        mapped error unless ``raise_for_status`` is False."""
        payload = {**body, "model": target.model}
        url = f"{target.base_url}/chat/completions"
        with self._slot(target) as slot:
            response = self._send(slot, target, "POST", url, payload, stream=True)
        if raise_for_status:
            try:
                self._raise_for_status(response, target, url)
            except BaseException:
                response.close()
                raise
        return response

    def close(self) -> None:
        """Close every HTTP client (idempotent); later calls open new ones."""
        with self._lock:
            slots = [*self._clients.values(), *self._retired]
            self._clients, self._retired = {}, []
        for slot in slots:
            slot.client.close()

    # -- internals: aliases ---------------------------------------------------------------

    @staticmethod
    def _validated(alias: ApiAlias) -> ApiAlias:
        base_url = check_base_url(alias.base_url)
        if alias.api_format not in _CHAT_FORMATS:
            raise UnsupportedApiFormatError(alias=alias.id, format=alias.api_format.value,
                                            supported=[f.value for f in _CHAT_FORMATS])
        from bodhi_nb.services.data import check_alias_name

        check_alias_name(alias.id)
        prefix = (alias.prefix or "").strip() or None
        if alias.forward_all_with_prefix and prefix is None:
            raise InvalidValueError(name="forward_all_with_prefix", value="true",
                                    reason="forwarding every model needs a prefix "
                                           "(--prefix p/)")
        models = tuple(dict.fromkeys(m.strip() for m in alias.models if m.strip()))
        return dataclasses.replace(alias, base_url=base_url, prefix=prefix, models=models,
                                   has_api_key=False)

    def _check_free(self, alias: ApiAlias) -> None:
        """AiAliasExistsError / PrefixExistsError unless ``alias`` could be added now."""
        if self._aliases.row_id(alias.id) is not None:
            raise AiAliasExistsError(alias=alias.id)
        if alias.prefix:
            other = self._aliases.prefix_owner(alias.prefix, other_than=alias.id)
            if other is not None:
                raise PrefixExistsError(prefix=alias.prefix, alias=other)

    def _row_id(self, name: str) -> str:
        row_id = self._aliases.row_id(name)
        if row_id is None:
            raise AiAliasNotFoundError(alias=name)
        return row_id

    # -- internals: HTTP ------------------------------------------------------------------

    @contextmanager
    def _slot(self, target: ChatTarget) -> Iterator[_Slot]:
        """The client for the target's base URL (created on first use), counted as in use
        while the block runs."""
        import httpx

        read_timeout = float(target.timeout or self.read_timeout)
        key = (target.base_url, read_timeout)
        with self._lock:
            slot = self._clients.get(key)
            if slot is None:
                from bodhi_nb._version import __version__

                slot = _Slot(key, httpx.Client(
                    timeout=httpx.Timeout(read_timeout, connect=self.connect_timeout),
                    trust_env=True, follow_redirects=False, transport=self._transport,
                    headers={"User-Agent": f"bodhi_nb/{__version__}"}))
                self._clients[key] = slot
            slot.in_use += 1
        try:
            yield slot
        finally:
            with self._lock:
                slot.in_use -= 1
                done = slot.retired and slot.in_use == 0
                if done and slot in self._retired:
                    self._retired.remove(slot)
            if done:
                slot.client.close()

    def _retire(self, slot: _Slot) -> None:
        """Stop handing out ``slot``'s client (its pooled connections may be dead); it is
        closed when the last request using it ends."""
        with self._lock:
            if self._clients.get(slot.key) is slot:
                del self._clients[slot.key]
            if not slot.retired:
                slot.retired = True
                self._retired.append(slot)

    def _diagnose(self, target: ChatTarget, payload: Mapping[str, Any]) -> None:
        body = {k: v for k, v in payload.items() if k not in ("stream", "stream_options",
                                                              "max_completion_tokens")}
        try:
            self.chat_completion(target, {**body, "max_tokens": 1})
        except (ContextTooLongError, RequestRejectedError, AiUnauthorizedError,
                AiModelNotFoundError):
            raise
        except AiApiServiceError:
            pass  # not a clearer error than the interrupted stream itself

    def _send(self, slot: _Slot, target: ChatTarget, method: str, url: str, payload: Any,
              *, stream: bool) -> httpx.Response:
        headers = {"Accept": "text/event-stream" if payload and payload.get("stream")
                   else "application/json"}
        for name, value in target.headers:
            headers[name] = value
        if target.api_key:
            headers["Authorization"] = f"Bearer {target.api_key}"
        return self._request(slot.client, method, url, headers, payload, target,
                             stream=stream)

    def _list_models(self, base_url: str, api_key: str | None, alias: str) -> list[str]:
        target = ChatTarget(base_url=base_url, model="", alias=alias, source=AliasSource.API,
                            api_key=api_key, timeout=self.read_timeout)
        url = f"{base_url}/models"
        with self._slot(target) as slot:
            response = self._send(slot, target, "GET", url, None, stream=False)
            self._raise_for_status(response, target, url, listing=True)
            data = self._json(response, target, url)
        items = data.get("data") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise BadResponseError(alias=alias, url=url, reason="no 'data' list in the answer")
        return [str(m["id"]) for m in items if isinstance(m, dict) and "id" in m]

    def _request(self, client: httpx.Client, method: str, url: str, headers: dict[str, str],
                 payload: Any, target: ChatTarget, *, stream: bool) -> httpx.Response:
        import httpx

        key = target.api_key
        try:
            request = client.build_request(method, url, headers=headers, json=payload)
            return client.send(request, stream=stream)
        except httpx.TimeoutException as exc:
            what = ("no connection" if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
                    else "no answer")
            seconds = (self.connect_timeout if what == "no connection"
                       else float(target.timeout or self.read_timeout))
            raise AiUnreachableError(alias=target.alias, url=target.base_url,
                                     reason=f"{what} within {seconds:g} s") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise InvalidBaseUrlError(url=_shown_url(target.base_url),
                                      reason=_reason(exc, key)) from None
        except httpx.TransportError as exc:  # connect, proxy, read/write, protocol
            raise AiUnreachableError(alias=target.alias, url=target.base_url,
                                     reason=_reason(exc, key)) from None

    def _raise_for_status(self, response: httpx.Response, target: ChatTarget, url: str,
                          *, listing: bool = False) -> None:
        import httpx

        status = response.status_code
        if status < 400:
            if 300 <= status:
                response.close()
                raise BadResponseError(alias=target.alias, url=url,
                                       reason=f"HTTP {status} redirect to "
                                              f"{_shown_url(response.headers.get('location', ''))}")
            return
        try:
            body = response.read()
        except httpx.HTTPError:
            body = b""
        finally:
            response.close()
        message, code = _error_text(body)
        message = _clean(message, target.api_key)
        alias = target.alias
        if status in (401, 403):
            raise AiUnauthorizedError(alias=alias, status=status)
        if status == 404:
            if listing:
                raise EndpointNotFoundError(alias=alias, url=url)
            raise AiModelNotFoundError(alias=alias, model=target.model)
        if status == 429:
            retry_after = _retry_after(response.headers.get("retry-after"),
                                       self._time.utc_now())
            raise AiRateLimitedError(alias=alias, retry_after=retry_after or "none")
        if status in (400, 413, 422) and (code == "context_length_exceeded"
                                          or _CONTEXT.search(message)):
            raise ContextTooLongError(alias=alias, model=target.model, reason=message)
        if 400 <= status < 500:
            raise RequestRejectedError(alias=alias, status=status,
                                       reason=message or f"HTTP {status}")
        raise UpstreamFailedError(alias=alias, status=status, url=url)

    @staticmethod
    def _json(response: httpx.Response, target: ChatTarget, url: str) -> Any:
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("content-type", "no content type")
            raise BadResponseError(alias=target.alias, url=url,
                                   reason=f"not JSON ({_clean(kind)})") from None
        finally:
            response.close()

    def _events(self, response: httpx.Response, target: ChatTarget,
                url: str) -> Iterator[StreamEvent]:
        import httpx

        received = events = 0
        finished = False
        data_lines: list[str] = []
        try:
            lines = response.iter_lines()
            while True:
                try:
                    line = next(lines)
                except StopIteration:
                    line = None
                if line is None or line == "":
                    if data_lines:
                        event, data_lines = "\n".join(data_lines), []
                        if event.strip() == "[DONE]":
                            for _rest in lines:
                                pass  # read to the end, so the connection can be reused
                            return
                        events += 1
                        chunk, delta = _parse_chunk(event, target, url)
                        if delta is not None:
                            received += len(delta.text)
                            finished = finished or delta.finish_reason is not None
                        yield StreamEvent(event, chunk, delta)
                    if line is None:
                        break
                    continue
                if line.startswith(":"):
                    continue  # an SSE comment (keep-alive ping)
                field, _, value = line.partition(":")
                if field == "data":
                    data_lines.append(value.removeprefix(" "))
        except httpx.TimeoutException:
            raise StreamInterruptedError(
                alias=target.alias, received=received,
                reason=f"no data for {float(target.timeout or self.read_timeout):g} s"
            ) from None
        except httpx.TransportError as exc:
            raise StreamInterruptedError(alias=target.alias, received=received,
                                         reason=_reason(exc, target.api_key)) from None
        if not finished:
            raise _EndedEarly(received, events)


@dataclass(eq=False)
class _Slot:
    """An HTTP client for one base URL (and read timeout), and how many requests use it."""

    key: tuple[str, float]
    client: httpx.Client
    in_use: int = 0
    retired: bool = False


class _EndedEarly(Exception):
    """The event stream ended (cleanly) before [DONE] and before a finish reason."""

    def __init__(self, received: int, events: int) -> None:
        super().__init__(received, events)
        self.received = received
        self.events = events


def _parse_chunk(event: str, target: ChatTarget,
                 url: str) -> tuple[dict[str, Any], ChatDelta | None]:
    try:
        data = json.loads(event)
    except ValueError:
        raise BadResponseError(alias=target.alias, url=url,
                               reason="a stream event is not JSON") from None
    if not isinstance(data, dict):
        raise BadResponseError(alias=target.alias, url=url,
                               reason="a stream event is not a JSON object")
    if "error" in data:
        message, _ = _error_text(json.dumps(data).encode())
        raise StreamInterruptedError(alias=target.alias, received=0,
                                     reason=_clean(message, target.api_key))
    text = ""
    finish = None
    choices = data.get("choices") or []
    if choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        text = content if isinstance(content, str) else ""
        finish = choices[0].get("finish_reason")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
    if not text and finish is None and usage is None:
        return data, None
    model = data.get("model")
    return data, ChatDelta(text=text, finish_reason=str(finish) if finish is not None else None,
                           usage=usage, model=str(model) if model is not None else None)


def _message_text(reply: Mapping[str, Any]) -> str:
    choices = reply.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return ""
    message = choices[0].get("message") or {}
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _error_text(body: bytes) -> tuple[str, str | None]:
    """The message and code of an error body: OpenAI's ``{"error": {...}}``, FastAPI's
    ``{"detail": ...}``, or the text itself."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text, None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            return str(error.get("message") or ""), str(code) if code is not None else None
        if isinstance(error, str):
            return error, None
        detail = data.get("detail")
        if detail is not None:
            return detail if isinstance(detail, str) else json.dumps(detail), None
        if isinstance(data.get("message"), str):
            return str(data["message"]), None
    return text, None


def _retry_after(value: str | None, now: datetime) -> str | None:
    """Seconds to wait from a ``Retry-After`` header (a number or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return value
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = int((when - now).total_seconds())
    return str(max(seconds, 0))
