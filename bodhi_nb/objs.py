"""Domain objects shared by every layer: typed, validated, immutable where it makes sense.

Each object round-trips through plain dicts (``to_dict``/``from_dict``), JSON and YAML, so
aliases can live in YAML files and rows in DuckDB without a second schema.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Self

from bodhi_nb.errors import (
    InvalidEnumError,
    InvalidReferenceError,
    InvalidRepoError,
    InvalidValueError,
    OutOfRangeError,
)

__all__ = [
    "ANSWER_FORMATS",
    "LLAMA_FLAG_SPELLINGS",
    "ChatMessage",
    "HistoryEntry",
    "ThreadInfo",
    "Envelope",
    "SecretInfo",
    "AliasSource",
    "ApiAlias",
    "ApiFormat",
    "CancelToken",
    "ChatTarget",
    "DownloadRequest",
    "DownloadStatus",
    "HubFile",
    "ModelRef",
    "Notice",
    "OAIRequestParams",
    "Repo",
    "ResourceRole",
    "Serializable",
    "UserAccessRequest",
    "UserAccessRequestStatus",
    "UserAlias",
    "is_http_url",
    "new_ulid",
]

_REPO_PART = re.compile(r"^[a-zA-Z0-9_.-]+$")
# The Hub's own rule for each half of a repo id (huggingface_hub's validate_repo_id): 1 to 96
# of [A-Za-z0-9_.-], starting and ending with a letter, digit or "_", and never ".." or "--"
# (".." could climb out of a folder; "--" would make two ids share one cache folder name).
_REPO_ID_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#: How an answer may render, as an alias can fix it (``alias create --format``).
ANSWER_FORMATS = ("markdown", "text")


class CancelToken:
    """A request to stop, shared between the thread that asks and the one that works.

    ``cancel()`` may be called from any thread, any number of times; the worker checks
    ``cancelled`` between units of work (a chunk of a download, a delta of a chat answer)
    and may register ``on_cancel`` callbacks that run once, at the first ``cancel()`` (or at
    once when already cancelled): e.g. to close a connection blocked in a read.
    """

    __slots__ = ("_callbacks", "_event", "_lock")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a closing connection may complain; the stop still holds
                pass

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled (True) or ``timeout`` seconds pass (False)."""
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` at the first ``cancel()``; returns a function that forgets it."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def forget() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)
                return forget
        callback()
        return lambda: None

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"


_ulid_lock = threading.Lock()
_ulid_last = (0, 0)


def new_ulid(now: datetime | None = None) -> str:
    """A ULID: 48-bit millisecond timestamp + 80 random bits, Crockford base32.

    Monotonic within a process: an id made in the same millisecond as the previous one (or
    from a second-precision clock) is the previous one plus one, so ids sort in the order
    they were made.
    """
    global _ulid_last
    ms = int((now.timestamp() if now else time.time()) * 1000)
    with _ulid_lock:
        last_ms, last_rand = _ulid_last
        if ms <= last_ms and last_rand < (1 << 80) - 1:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # room to count up
        _ulid_last = (ms, rand)
    value = (ms << 80) | rand
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _enum(cls: type[StrEnum], name: str, value: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise InvalidEnumError(name=name, value=value, allowed=[m.value for m in cls]) from None


def _ts(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


class Serializable:
    """Mixin: dict/JSON/YAML round trips for frozen dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, datetime):
                value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
            elif isinstance(value, Serializable):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.from_dict(json.loads(text))

    def to_yaml(self) -> str:
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))

    @classmethod
    def from_yaml(cls, text: str) -> Self:
        import yaml

        data = yaml.safe_load(text)
        if not isinstance(data, Mapping):
            raise InvalidValueError(name=cls.__name__, value=type(data).__name__,
                                    reason="expected a mapping")
        return cls.from_dict(data)


def _shown(value: str) -> str:
    """A rejected repo id as one visible line: a trailing newline shows as ``\\n``."""
    return value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value


@dataclass(frozen=True, order=True)
class Repo(Serializable):
    """A Hub repository id, ``owner/name``."""

    owner: str
    name: str

    def __post_init__(self) -> None:
        if not all(isinstance(part, str) and _REPO_ID_PART.fullmatch(part)
                   and ".." not in part and "--" not in part for part in (self.owner, self.name)):
            raise InvalidRepoError(value=_shown(f"{self.owner}/{self.name}"))

    @classmethod
    def parse(cls, value: str) -> Repo:
        owner, sep, name = value.partition("/")
        if not sep:
            raise InvalidRepoError(value=_shown(value))
        return cls(owner, name)

    @property
    def id(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def cache_folder(self) -> str:
        """The folder name huggingface_hub uses in its cache."""
        return f"models--{self.owner}--{self.name}"

    def __str__(self) -> str:
        return self.id

    def to_dict(self) -> dict[str, Any]:
        return {"repo": self.id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Repo:
        return cls.parse(str(data["repo"]))


@dataclass(frozen=True)
class ModelRef:
    """What a user asked to pull: ``owner/repo FILE``, ``owner/repo:QUANT``,
    ``hf://owner/repo/path/FILE`` or just ``owner/repo`` (list its GGUF files)."""

    repo: Repo
    filename: str | None = None
    quant: str | None = None

    @classmethod
    def parse(cls, text: str, filename: str | None = None) -> ModelRef:
        value = text.strip()
        if value.startswith("hf://"):
            owner, _, rest = value[len("hf://"):].partition("/")
            name, _, path = rest.partition("/")
            if filename is not None:
                raise InvalidReferenceError(value=value, reason="an hf:// reference names "
                                            "its file already")
            if not path:
                raise InvalidReferenceError(value=value, reason="expected hf://owner/repo/FILE")
            return cls(cls._repo(f"{owner}/{name}", value), cls._file(path, value))
        repo_part, sep, quant = value.partition(":")
        if not sep and value.count("/") >= 2:  # owner/repo/path/FILE
            owner, name, path = value.split("/", 2)
            if filename is not None:
                raise InvalidReferenceError(value=value, reason="the reference names its "
                                            "file already")
            return cls(cls._repo(f"{owner}/{name}", value), cls._file(path, value))
        repo = cls._repo(repo_part, value)
        if sep:
            if not quant or not _REPO_PART.match(quant):
                raise InvalidReferenceError(value=value, reason="expected owner/repo:QUANT")
            if filename is not None:
                raise InvalidReferenceError(value=value, reason="give a quantisation or a "
                                            "file, not both")
            return cls(repo, quant=quant)
        return cls(repo, cls._file(filename, value) if filename is not None else None)

    @staticmethod
    def _repo(value: str, whole: str) -> Repo:
        try:
            return Repo.parse(value)
        except InvalidRepoError:
            raise InvalidReferenceError(value=whole, reason="expected owner/repo") from None

    @staticmethod
    def _file(path: str, whole: str) -> str:
        parts = path.split("/")
        if (not path or path.startswith("/") or "\\" in path
                or any(p in ("", ".", "..") for p in parts)
                or any(ord(c) < 32 for c in path)):
            raise InvalidReferenceError(value=whole, reason=f"'{path}' is not a file path "
                                        "inside the repository")
        return path


@dataclass(frozen=True)
class HubFile(Serializable):
    """A file in the local HF cache: ``hf_cache/models--o--n/snapshots/{snapshot}/{filename}``."""

    hf_cache: str
    repo: str
    filename: str
    snapshot: str
    size: int | None = None

    def __post_init__(self) -> None:
        Repo.parse(self.repo)

    @property
    def path(self) -> Path:
        return (Path(self.hf_cache) / Repo.parse(self.repo).cache_folder / "snapshots"
                / self.snapshot / self.filename)


@dataclass(frozen=True)
class OAIRequestParams(Serializable):
    """Request defaults an alias applies where the request itself is silent."""

    frequency_penalty: float | None = None
    max_tokens: int | None = None
    presence_penalty: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    temperature: float | None = None
    top_p: float | None = None
    user: str | None = None
    system_prompt: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(self.stop or ()))
        for name, low, high in (
            ("frequency_penalty", -2.0, 2.0),
            ("presence_penalty", -2.0, 2.0),
            ("temperature", 0.0, 2.0),
            ("top_p", 0.0, 1.0),
        ):
            value = getattr(self, name)
            if value is not None and not (low <= float(value) <= high):
                raise OutOfRangeError(name=name, value=value, min=low, max=high)
        if self.max_tokens is not None and int(self.max_tokens) < 1:
            raise OutOfRangeError(name="max_tokens", value=self.max_tokens, min=1, max="∞")

    def to_dict(self) -> dict[str, Any]:
        """Only the parameters that are set (an alias file omits defaults)."""
        out = super().to_dict()
        return {k: v for k, v in out.items() if v not in (None, [], ())}

    def is_default(self) -> bool:
        return not self.to_dict()

    def apply(self, request: dict[str, Any]) -> dict[str, Any]:
        """BodhiApp's merge: each parameter only where the request does not set it."""
        out = dict(request)
        for key in ("frequency_penalty", "presence_penalty", "seed", "temperature", "top_p",
                    "user"):
            value = getattr(self, key)
            if value is not None and key not in out:
                out[key] = value
        if self.stop and "stop" not in out:
            out["stop"] = list(self.stop)
        if (self.max_tokens is not None and "max_tokens" not in out
                and "max_completion_tokens" not in out):
            out["max_completion_tokens"] = self.max_tokens
        if self.system_prompt is not None:
            messages = list(out.get("messages") or [])
            if not messages or messages[0].get("role") != "system":
                out["messages"] = [{"role": "system", "content": self.system_prompt}, *messages]
        return out


class AliasSource(StrEnum):
    USER = "user"
    MODEL = "model"
    API = "api"


class ApiFormat(StrEnum):
    OPENAI = "openai"
    OPENAI_RESPONSES = "openai_responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


@dataclass(frozen=True)
class UserAlias(Serializable):
    """A named local model: a GGUF file in the HF cache plus request and context params."""

    alias: str
    repo: str
    filename: str
    snapshot: str = "main"
    request_params: OAIRequestParams = field(default_factory=OAIRequestParams)
    context_params: tuple[str, ...] = ()
    source: AliasSource = AliasSource.USER
    #: how answers render: ``markdown`` or ``text``; None: markdown unless the GGUF has no
    #: chat template (a base model). bodhi's own key: written only when set.
    format: str | None = None

    def __post_init__(self) -> None:
        Repo.parse(self.repo)
        if not self.alias.strip():
            raise InvalidValueError(name="alias", value=self.alias, reason="empty")
        if self.format not in (None, *ANSWER_FORMATS):
            raise InvalidEnumError(name="format", value=str(self.format),
                                   allowed=ANSWER_FORMATS)
        if isinstance(self.request_params, Mapping):
            object.__setattr__(self, "request_params", OAIRequestParams.from_dict(
                self.request_params))
        object.__setattr__(self, "context_params", tuple(self.context_params or ()))
        object.__setattr__(self, "source", _enum(AliasSource, "source", self.source))

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.request_params.is_default():
            out.pop("request_params")
        if self.format is None:
            out.pop("format")
        return out


@dataclass(frozen=True)
class ApiAlias(Serializable):
    """A remote OpenAI-compatible API. The API key is never part of this object."""

    id: str
    base_url: str
    api_format: ApiFormat = ApiFormat.OPENAI
    models: tuple[str, ...] = ()
    prefix: str | None = None
    forward_all_with_prefix: bool = False
    has_api_key: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_format", _enum(ApiFormat, "api_format", self.api_format))
        object.__setattr__(self, "models", tuple(self.models or ()))
        object.__setattr__(self, "created_at", _ts(self.created_at))
        object.__setattr__(self, "updated_at", _ts(self.updated_at))
        if not self.base_url.startswith(("http://", "https://")):
            raise InvalidValueError(name="base_url", value=self.base_url,
                                    reason="must start with http:// or https://")

    def supports(self, model: str) -> bool:
        """BodhiApp's matching: forward-all by prefix, else ``prefix+id`` must be listed."""
        prefix = self.prefix or ""
        if self.forward_all_with_prefix:
            return bool(prefix) and model.startswith(prefix)
        return any(prefix + m == model for m in self.models)

    def strip_prefix(self, model: str) -> str:
        prefix = self.prefix or ""
        return model[len(prefix):] if prefix and model.startswith(prefix) else model


@dataclass(frozen=True)
class ChatTarget:
    """Where one chat request goes: an OpenAI-compatible ``base_url`` (ending in ``/v1``)
    and the model name to send. Local aliases and API aliases both resolve to one, so the
    chat path is the same for both. The API key never shows in a repr."""

    base_url: str
    model: str
    alias: str
    source: AliasSource
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    headers: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'***'"
        return (f"ChatTarget(base_url={self.base_url!r}, model={self.model!r}, "
                f"alias={self.alias!r}, source={self.source.value!r}, api_key={key})")


class DownloadStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    ERROR = "error"


@dataclass(frozen=True)
class DownloadRequest(Serializable):
    id: str
    repo: str
    filename: str
    status: DownloadStatus
    created_at: datetime
    updated_at: datetime
    revision: str = "main"
    error: str | None = None
    total_bytes: int | None = None
    downloaded_bytes: int = 0
    started_at: datetime | None = None
    archived_at: datetime | None = None

    def __post_init__(self) -> None:
        Repo.parse(self.repo)
        object.__setattr__(self, "status", _enum(DownloadStatus, "status", self.status))
        for name in ("created_at", "updated_at", "started_at", "archived_at"):
            object.__setattr__(self, name, _ts(getattr(self, name)))

    @property
    def active(self) -> bool:
        return self.status is DownloadStatus.PENDING and self.started_at is not None


class UserAccessRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class UserAccessRequest(Serializable):
    id: str
    username: str
    user_id: str
    status: UserAccessRequestStatus
    created_at: datetime
    updated_at: datetime
    reviewer: str | None = None
    reason: str | None = None
    #: the role given on approval (full name, ``resource_power_user``)
    role: str | None = None
    #: the reviewer's reason for a rejection
    review_note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", _enum(UserAccessRequestStatus, "status", self.status))
        object.__setattr__(self, "created_at", _ts(self.created_at))
        object.__setattr__(self, "updated_at", _ts(self.updated_at))


class ResourceRole(StrEnum):
    """anonymous < guest < user < power_user < manager < admin."""

    ANONYMOUS = "resource_anonymous"
    GUEST = "resource_guest"
    USER = "resource_user"
    POWER_USER = "resource_power_user"
    MANAGER = "resource_manager"
    ADMIN = "resource_admin"

    @property
    def rank(self) -> int:
        return list(ResourceRole).index(self)

    # str already defines the comparisons, so all four are spelled out (total_ordering
    # would keep str's alphabetical ones).
    def __lt__(self, other: object) -> bool:
        return self.rank < _role(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= _role(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > _role(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= _role(other).rank

    __hash__ = StrEnum.__hash__

    def has_access_to(self, other: ResourceRole) -> bool:
        return self >= other

    @property
    def assignable(self) -> bool:
        return self >= ResourceRole.USER

    @classmethod
    def parse(cls, value: str) -> ResourceRole:
        value = value if value.startswith("resource_") else f"resource_{value}"
        return _enum(cls, "role", value)  # type: ignore[no-any-return]

    @classmethod
    def highest(cls, roles: list[str]) -> ResourceRole:
        """The highest valid role among Keycloak's role strings; none means guest."""
        found = [cls(r) for r in roles if r in cls._value2member_map_]
        return max(found, default=cls.GUEST)


def _role(value: object) -> ResourceRole:
    if isinstance(value, ResourceRole):
        return value
    raise TypeError(f"cannot compare ResourceRole with {type(value).__name__}")


class Notice(str):
    """Something a service tells the user (a download resumed, a master key created), in no
    language: the text is a message id of the catalogues and ``args`` fill it in. The front
    end that shows it renders ``LocalizationService.message(notice, notice.args)``; being a
    ``str``, a notice passes unchanged through anything that forwards text (the download
    service's progress writer)."""

    args: Mapping[str, Any]

    def __new__(cls, message_id: str, **args: Any) -> Notice:
        notice = super().__new__(cls, message_id)
        object.__setattr__(notice, "args", MappingProxyType(dict(args)))
        return notice

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Notice is immutable: cannot set {name}")


def is_http_url(text: str) -> bool:
    """An http(s) URL with a host and a valid port, with no space or control character: what
    an endpoint setting or a redirect from a server must be before it is used."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        return False
    try:
        parts = urllib.parse.urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# -- `-o KEY=VALUE` and llama.cpp options: one reading each, for every layer ----------------

#: OpenAI request parameters whose value is text: kept as typed, never read as JSON.
_TEXT_OPTIONS = frozenset({"user", "system_prompt"})


def parse_options(items: Iterable[str]) -> dict[str, Any]:
    """``-o KEY=VALUE`` values (``chat -o``, ``alias create -o``), read one way.

    KEY's ``-`` reads as ``_`` (``max-tokens``). VALUE is JSON where it parses (``0.2``,
    ``1e3``, ``true``, ``["a"]``), else the text as typed; ``user`` and ``system_prompt``
    are always text. ``stop`` may come more than once and is a list: a JSON list, or a text
    in which ``\\n`` and ``\\t`` stand for newline and tab (how one gets through a command
    line). Types and ranges are the caller's to check. Raises ``InvalidValueError``
    (name ``-o``) for an item that is not KEY=VALUE.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise InvalidValueError(name="-o", value=item, reason="expected KEY=VALUE")
        if key in _TEXT_OPTIONS:
            out[key] = raw
            continue
        if key == "stop":
            stops: list[Any] = out.setdefault("stop", [])
            listed = _json(raw) if raw.lstrip().startswith("[") else None
            if isinstance(listed, list):
                stops.extend(listed)
            else:
                stops.append(raw.replace("\\n", "\n").replace("\\t", "\t"))
            continue
        value = _json(raw)
        out[key] = raw if value is _NOT_JSON else value
    return out


_NOT_JSON = object()


def _json(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _NOT_JSON


#: Other spellings of a llama-server option -> its canonical (long llama-server) name: the
#: short flags, and the names llama-cpp-python's server (and its ``Llama(n_ctx=...)``) uses.
#: ``alias create --ctx n_ctx=4096``, the settings' server arguments and an alias file's
#: ``context_params`` are all read through this one table.
LLAMA_FLAG_SPELLINGS: Mapping[str, str] = MappingProxyType({
    "-c": "--ctx-size", "-t": "--threads", "-tb": "--threads-batch", "-m": "--model",
    "-a": "--alias", "-ngl": "--n-gpu-layers", "--gpu-layers": "--n-gpu-layers",
    "-b": "--batch-size", "-ub": "--ubatch-size", "-fa": "--flash-attn", "-s": "--seed",
    "--embedding": "--embeddings", "-np": "--parallel",
    # short names people type for the common ones
    "--ctx": "--ctx-size", "--ngl": "--n-gpu-layers",
    # llama_cpp.server names whose llama-server counterpart is spelled differently
    "--n_ctx": "--ctx-size", "--n-ctx": "--ctx-size", "--n_threads": "--threads",
    "--n_threads_batch": "--threads-batch", "--n_batch": "--batch-size",
    "--n_ubatch": "--ubatch-size", "--n_gpu_layers": "--n-gpu-layers",
    "--model_alias": "--alias", "--chat_format": "--chat-template",
    # what `alias create --ctx chat_format=X` stored before this table was shared
    "--chat-format": "--chat-template",
})


def canonical_llama_flag(flag: str) -> str:
    """``-c``, ``--n_ctx`` and ``--ctx-size`` are one option: ``--ctx-size``."""
    if flag in LLAMA_FLAG_SPELLINGS:
        return LLAMA_FLAG_SPELLINGS[flag]
    if flag.startswith("--"):
        return "--" + flag[2:].replace("_", "-")
    return flag


__all__ += ["canonical_llama_flag", "parse_options"]


# -- secrets (SecretService seals, the secrets table keeps) ------------------------------


@dataclass(frozen=True)
class Envelope:
    """A sealed value as stored: no part of it is secret."""

    value: str
    salt: str
    nonce: str
    key_id: str


@dataclass(frozen=True)
class SecretInfo:
    """What ``secret ls`` shows: a name and timestamps, never a value."""

    name: str
    created_at: datetime
    updated_at: datetime


# -- chat history (ChatService logs, the chat_messages table keeps) -----------------------


@dataclass(frozen=True)
class HistoryEntry:
    """One logged exchange: a prompt and its answer."""

    exchange: str
    thread: str
    alias: str | None
    model: str | None
    prompt: str
    answer: str
    created_at: datetime
    usage: dict[str, Any] | None
    timings: dict[str, Any] | None

    @property
    def finish_reason(self) -> str | None:
        """``"stopped"`` for an answer the user stopped (kept with its usage); else None
        (the finish reason of a complete answer is not logged)."""
        value = (self.usage or {}).get("finish_reason")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ThreadInfo:
    """A thread of chat history: its name, last activity, counts and the alias it used
    last. A one-off exchange is a thread of its own (``named`` False)."""

    thread: str
    last_at: datetime
    exchanges: int
    messages: int
    last_alias: str | None
    named: bool


@dataclass(frozen=True)
class ChatMessage:
    """A row of chat history: ``role`` is system (a thread reset marker), user or
    assistant; ``params``, ``usage`` and ``timings`` are JSON text."""

    id: str
    thread: str
    exchange: str
    seq: int
    role: str
    content: str
    created_at: datetime
    alias: str | None = None
    model: str | None = None
    params: str | None = None
    usage: str | None = None
    timings: str | None = None
    # Issue 14 (batch answers, resumable): set on the assistant row. ``input_key`` is the
    # SHA-256 of the exchange's inputs (ChatService.input_key); the model file that answered
    # (a local alias: repo, file, resolved commit); the server's finish reason.
    input_key: str | None = None
    repo: str | None = None
    filename: str | None = None
    model_commit: str | None = None
    finish_reason: str | None = None


@dataclass(frozen=True)
class HistoryRecord:
    """One logged exchange with everything the history keeps (``bodhi_nb.history()``'s
    rows, and the answer a batch re-run reuses): ``params``, ``usage`` and ``timings``
    decoded; ``commit`` is the resolved commit of a local alias's model file."""

    id: str
    thread: str
    alias: str | None
    model: str | None
    prompt: str
    answer: str
    created_at: datetime
    params: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    timings: dict[str, Any] | None = None
    finish_reason: str | None = None
    repo: str | None = None
    file: str | None = None
    commit: str | None = None
    input_key: str | None = None


__all__ += ["HistoryRecord"]  # issue 14's batch API and SQL history
