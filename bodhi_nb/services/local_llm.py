"""LocalLlmService: a local alias's GGUF served by ONE llama.cpp server child process.

The runtime is upstream's ``llama-server`` when BODHI_LLAMA_SERVER names it or it is on PATH,
else ``python -m llama_cpp.server`` from the optional extra ``bodhi_nb[local]``
(llama-cpp-python[server]) in this interpreter. BODHI_LLAMA_SERVER=llama_cpp.server forces
the Python runtime; a value that names no executable is an error, never a silent fallback.

The server listens on a free 127.0.0.1 port and is health-polled until ready
(``/health`` for llama-server, ``/v1/models`` for llama_cpp.server). Its stdout and stderr go
to ``$BODHI_HOME/logs/llama-<alias>.log``; a failed start reports the log's last lines.
Each start gets a fresh random API key, handed over in the child's environment (never on
its command line, which other users of a shared host can read) and returned in
``ChatTarget.api_key``: a loopback port is open to every local user, the key is not.

Arguments, later wins per flag (``--flag value``, ``--flag=value``, short synonyms such as
``-c``/``--ctx-size`` are one flag)::

    defaults  <  BODHI_LLAMACPP_ARGS  <  the alias's context_params  <  managed flags

Defaults: threads ``min(4, usable CPUs)`` and a 2048-token context; for llama_cpp.server also
``--logits_all false`` (its default keeps every logit: ~1.9 GB for a 270M model). Managed
flags (model, host, port, served model name, API key) are always ours. Flags are written in
llama-server spelling (as alias files store them, BodhiApp-compatible) or llama_cpp.server
spelling; each is translated to the runtime in use where a counterpart exists
(``--ctx-size``/``--n_ctx``, ``--chat-template``/``--chat_format``, ...) and otherwise
passed through, so a flag the runtime does not know fails the start with the runtime's
own complaint in the error.

A GGUF without a chat template (a base model) is served with a fallback format when neither
the settings nor the alias name one: llama.cpp would otherwise frame the prompt as Llama 2's
``[INST] ... [/INST]``, and a base model meets that with an end-of-text at once (an empty
answer). The fallback is Alpaca's plain-text frame (``### Instruction: ...`` then a blank line),
text a base model can continue: llama_cpp.server's built-in ``alpaca`` chat format, and for
llama-server the same frame as a Jinja template (``--jinja --chat-template``). ``using()``
reports it in its ``model`` event (below) so the chat can say so.

Events: ``using(..., on_event=callback)`` calls ``callback(kind, data)`` with ``starting``
(``alias``, ``seconds`` since the start began; at the start and after each health poll),
``started`` (``alias``, ``seconds``) when a server it had to start is ready, and ``model``
(``alias``, ``chat_template``: True/False/None when unreadable, ``fallback``: the fallback
format or None) each time.

Keep-alive (BODHI_KEEP_ALIVE_SECS, read at each decision so ``settings`` changes apply):
positive, the server stops after that many idle seconds; 0, it stops when the ``using()``
block that needed it ends; negative, it runs until ``stop()``/``close()``. A daemon thread
watches the deadline on the TimeService clock; it is woken by a condition (so stopping is
immediate) and re-checks at least every second, and ``reap_idle()`` applies the same rule on
demand (tests with a frozen clock call it after ``advance``).

Concurrency: there is one server, so ``using()`` admits requests in arrival order (FIFO).
Requests for the alias being served share the server (llama.cpp queues them inside it;
llama_cpp.server is started with ``--interrupt_requests false`` so that a new request does
not cut the answer streaming before it); a request for another alias waits until the
requests in flight have ended, then the server is restarted for it, and requests that came
after it wait behind it, whatever their alias. Every server is started with embeddings on
(``--embeddings``), as BodhiApp does, so ``/v1/embeddings`` needs no restart.

No orphans: the child runs in its own process group (a Ctrl-C aimed at the kernel or the
terminal does not reach it; ``stop()`` signals the whole group, SIGTERM then SIGKILL after a
grace period, and reaps it). On Linux the child also gets PR_SET_PDEATHSIG=SIGTERM, so a
SIGKILLed kernel takes it down. Linux sends that signal when the *thread* that forked the
child ends, not the process, so every child is forked from one long-lived daemon thread.
``close()`` runs from the registry's close and at interpreter exit.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import dataclasses
import importlib.util
import os
import queue
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bodhi_nb.errors import (
    InvalidServerArgsError,
    ModelFileMissingError,
    RuntimeMissingError,
    ServerBinaryNotFoundError,
    StartFailedError,
    StartTimeoutError,
)
from bodhi_nb.gguf import read_gguf_metadata
from bodhi_nb.objs import AliasSource, ChatTarget, UserAlias, canonical_llama_flag
from bodhi_nb.redact import get_logger, register_secret, scrub

if TYPE_CHECKING:
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import TimeService

__all__ = [
    "ALPACA_JINJA",
    "FALLBACK_CHAT_FORMAT",
    "FORCE_PYTHON_RUNTIME",
    "EventCallback",
    "LocalLlmService",
    "Runtime",
    "RuntimeKind",
    "ServerInfo",
    "default_threads",
    "free_port",
    "merge_args",
    "parse_args",
    "resolve_runtime",
    "server_args",
    "server_argv",
]

_log = get_logger(__name__)

HOST = "127.0.0.1"
#: The BODHI_LLAMA_SERVER value that selects ``python -m llama_cpp.server`` even when a
#: llama-server binary is on PATH.
FORCE_PYTHON_RUNTIME = "llama_cpp.server"
_PY_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context",
               "pydantic_settings")
_TAIL_LINES = 12
#: The chat format a GGUF without a chat template is served with (see the docstring).
FALLBACK_CHAT_FORMAT = "alpaca"
#: The same frame as llama_cpp.server's ``alpaca`` format, for llama-server's --jinja. Like
#: that format it adds no ``### Response:`` line: the base model writes its own answer
#: (measured on Gemma 3 270M, that gives "The capital of France is Paris." where a
#: ``### Response:`` line gives " Paris" followed by repeated "### Answer:" lines).
ALPACA_JINJA = (
    "{% set ns = namespace(system='') %}"
    "{% for m in messages %}{% if m['role'] == 'system' and not ns.system %}"
    "{% set ns.system = m['content'] %}{% endif %}{% endfor %}"
    "{{ ns.system }}\n\n"
    "{% for m in messages %}"
    "{% if m['role'] == 'user' %}### Instruction: {{ m['content'] }}\n\n"
    "{% elif m['role'] == 'assistant' %}### Response: {{ m['content'] }}</s>"
    "{% endif %}{% endfor %}")
#: Flags by which the settings or an alias choose the prompt format themselves.
_TEMPLATE_FLAGS = ("--chat-template", "--chat-template-file", "--chat-handler")
EventCallback = Callable[[str, Mapping[str, Any]], None]
_TAIL_CHARS = 2000


class RuntimeKind(StrEnum):
    LLAMA_SERVER = "llama-server"
    LLAMA_CPP_PYTHON = "llama_cpp.server"


@dataclass(frozen=True)
class Runtime:
    """How to launch the server: the program part of the command line and its health URL."""

    kind: RuntimeKind
    program: tuple[str, ...]

    @property
    def health_path(self) -> str:
        return "/health" if self.kind is RuntimeKind.LLAMA_SERVER else "/v1/models"


def resolve_runtime(setting: str, python: str | None = None,
                    which: Callable[[str], str | None] = shutil.which) -> Runtime:
    """The runtime BODHI_LLAMA_SERVER selects (see the module docstring for the rules).

    ``python`` is the interpreter for llama_cpp.server (default: this one, whose packages are
    checked here without importing them; another interpreter is checked by the start itself).
    """
    python = python or sys.executable
    setting = setting.strip()
    if setting and setting != FORCE_PYTHON_RUNTIME:
        found = which(setting)
        if found is None:
            raise ServerBinaryNotFoundError(path=setting)
        return Runtime(RuntimeKind.LLAMA_SERVER, (found,))
    if not setting:
        found = which("llama-server")
        if found is not None:
            return Runtime(RuntimeKind.LLAMA_SERVER, (found,))
    if python == sys.executable:
        for module in _PY_MODULES:
            if importlib.util.find_spec(module) is None:
                raise RuntimeMissingError(module=module)
    return Runtime(RuntimeKind.LLAMA_CPP_PYTHON, (python, "-m", "llama_cpp.server"))


# -- arguments ------------------------------------------------------------------------------

#: Canonical name -> llama_cpp.server name, where it is not just ``-`` -> ``_``.
_TO_PY = {
    "--ctx-size": "--n_ctx", "--threads": "--n_threads", "--threads-batch": "--n_threads_batch",
    "--batch-size": "--n_batch", "--ubatch-size": "--n_ubatch",
    "--n-gpu-layers": "--n_gpu_layers", "--alias": "--model_alias",
    "--chat-template": "--chat_format", "--embeddings": "--embedding",
}
#: Flags with no counterpart in a runtime, dropped rather than failing the start.
_DROP = {
    RuntimeKind.LLAMA_CPP_PYTHON: frozenset({"--jinja", "--no-jinja"}),
    RuntimeKind.LLAMA_SERVER: frozenset({"--logits-all"}),
}
#: Set by the service, whatever the settings or the alias say.
_MANAGED = ("--model", "--host", "--port", "--alias", "--api-key", "--api-key-file")
_NUMBER = re.compile(r"-\.?\d")

#: One option: its canonical name and the tokens after it.
Flag = tuple[str, tuple[str, ...]]
Args = dict[str, tuple[str, ...]]


def _is_flag(token: str) -> bool:
    return token.startswith("-") and len(token) > 1 and not _NUMBER.match(token)


#: ``-c``, ``--n_ctx`` and ``--ctx-size`` are one option (the table lives in objs, shared
#: with ``alias create --ctx``).
canonical = canonical_llama_flag


def parse_args(tokens: Sequence[str], source: str = "arguments") -> list[Flag]:
    """``["--ctx-size", "4096", "--flash-attn", "--x=1"]`` -> flags with their values
    (canonical names; a flag takes every following token that is not a flag)."""
    out: list[tuple[str, list[str]]] = []
    for token in tokens:
        if _is_flag(token):
            flag, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
            if flag in ("-", "--"):
                raise InvalidServerArgsError(source=source, value=token,
                                             reason="an option needs a name")
            out.append((canonical(flag), [value] if eq else []))
        elif out:
            out[-1][1].append(token)
        else:
            raise InvalidServerArgsError(source=source, value=token,
                                         reason="expected an option starting with -")
    return [(flag, tuple(values)) for flag, values in out]


def _split(text: str, source: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidServerArgsError(source=source, value=text, reason=str(exc)) from None


def merge_args(*layers: Sequence[Flag]) -> Args:
    """Later layers win per flag; a flag set again moves to the end (its latest position)."""
    merged: Args = {}
    for layer in layers:
        for flag, values in layer:
            merged.pop(flag, None)
            merged[flag] = values
    return merged


def default_threads() -> int:
    """Threads for the server: the usable CPUs, at most 4 (a small model gains little beyond
    that, and the kernel shares the machine)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 2
    return max(1, min(4, cpus))


def _defaults(kind: RuntimeKind, threads: int) -> list[Flag]:
    out: list[Flag] = [("--threads", (str(threads),)), ("--ctx-size", ("2048",))]
    if kind is RuntimeKind.LLAMA_CPP_PYTHON:
        # Its default interrupts a streaming answer (a bare [DONE], no finish reason) as
        # soon as another request arrives: with `bodhi serve`, concurrent clients would cut
        # each other off. Without it, requests wait their turn inside the server.
        out += [("--logits-all", ("false",)), ("--interrupt-requests", ("false",))]
    out.append(("--embeddings", ()))  # as BodhiApp: /v1/embeddings from the same server
    return out


def _to_runtime(kind: RuntimeKind, flag: str, values: tuple[str, ...]) -> list[str]:
    if flag in _DROP[kind]:
        return []
    if kind is RuntimeKind.LLAMA_SERVER or not flag.startswith("--"):
        return [flag, *values]
    # llama_cpp.server: underscores, and every boolean takes a value.
    if flag == "--no-mmap":
        return ["--use_mmap", "false"]
    if flag == "--mlock":
        return ["--use_mlock", "true"]
    if flag == "--flash-attn" and values in (("on",), ("off",), ("auto",)):
        return [] if values == ("auto",) else ["--flash_attn", str(values == ("on",)).lower()]
    name = _TO_PY.get(flag) or "--" + flag[2:].replace("-", "_")
    return [name, *(values or ("true",))]


def server_args(kind: RuntimeKind, alias: str, settings_args: str = "",
                context_params: Sequence[str] = (), threads: int | None = None) -> Args:
    """The user-settable flags of one server, merged (see the module docstring for the
    order); managed flags are dropped, :func:`server_argv` adds them."""
    source = "BODHI_LLAMACPP_ARGS"
    from_settings = parse_args(_split(settings_args, source), source)
    source = f"the context_params of alias {alias}"
    from_alias = parse_args([t for p in context_params for t in _split(p, source)], source)
    merged = merge_args(_defaults(kind, threads or default_threads()), from_settings,
                        from_alias)
    for flag in _MANAGED:
        merged.pop(flag, None)
    return merged


def server_argv(runtime: Runtime, args: Args, model_path: Path, alias: str,
                port: int) -> list[str]:
    """The whole command line for one server: the program, ``args`` (from
    :func:`server_args`) in the runtime's spelling, then the managed flags."""
    name = "--alias" if runtime.kind is RuntimeKind.LLAMA_SERVER else "--model_alias"
    return [*runtime.program,
            *(token for flag, values in args.items()
              for token in _to_runtime(runtime.kind, flag, values)),
            "--model", str(model_path), "--host", HOST, "--port", str(port), name, alias]


def _fallback_args(kind: RuntimeKind) -> Args:
    if kind is RuntimeKind.LLAMA_SERVER:
        return {"--jinja": (), "--chat-template": (ALPACA_JINJA,)}
    return {"--chat-template": (FALLBACK_CHAT_FORMAT,)}


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# -- child processes ------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
#: Environment variables llama_cpp.server (pydantic-settings, uvicorn) would read as its
#: settings: an API_KEY or PORT of the user's must not change the server we start.
_PY_ENV_FIELDS = frozenset("""
model model_alias n_gpu_layers split_mode main_gpu tensor_split vocab_only use_mmap use_mlock
kv_overrides rpc_servers seed n_ctx n_batch n_ubatch n_threads n_threads_batch
rope_scaling_type rope_freq_base rope_freq_scale yarn_ext_factor yarn_attn_factor
yarn_beta_fast yarn_beta_slow yarn_orig_ctx mul_mat_q logits_all embedding offload_kqv
flash_attn last_n_tokens_size lora_base lora_path lora_scale numa chat_format
chat_template_kwargs clip_model_path cache cache_type cache_size hf_tokenizer_config_path
hf_pretrained_model_name_or_path hf_model_repo_id draft_model draft_model_num_pred_tokens
type_k type_v verbose host port ssl_keyfile ssl_certfile api_key interrupt_requests
disable_ping_events root_path config_file models
""".split())
_LLAMA_ENV = frozenset({"LLAMA_ARG_HOST", "LLAMA_ARG_PORT", "LLAMA_API_KEY",
                        "LLAMA_ARG_API_KEY", "LLAMA_ARG_MODEL", "LLAMA_ARG_ALIAS"})


def _child_env(kind: RuntimeKind, base: Mapping[str, str], api_key: str) -> dict[str, str]:
    if kind is RuntimeKind.LLAMA_CPP_PYTHON:
        env = {k: v for k, v in base.items() if k.lower() not in _PY_ENV_FIELDS}
        env["API_KEY"] = api_key
    else:
        env = {k: v for k, v in base.items() if k not in _LLAMA_ENV}
        env["LLAMA_API_KEY"] = api_key
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _parent_death_hook() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in the child
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)

    return hook


class _Spawner:
    """Forks every child from one daemon thread that lives as long as the process, so the
    parent-death signal fires when the process dies, not when some worker thread ends."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], subprocess.Popen[bytes]],
                                            concurrent.futures.Future[Any]]] = (
            queue.SimpleQueue())
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pid = 0

    def run(self, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="bodhi-llama-spawner",
                                                daemon=True)
                self._thread.start()
        future: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
        self._jobs.put((start, future))
        try:
            return future.result()
        except BaseException:
            # Interrupted (Ctrl-C) while the child was being forked: it must not outlive
            # this call. Forking takes milliseconds; wait for it, then kill it.
            with contextlib.suppress(BaseException):
                _terminate(future.result(timeout=30), None, 0.0)
            raise

    def _loop(self) -> None:
        while True:
            start, future = self._jobs.get()
            try:
                future.set_result(start())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


_SPAWNER = _Spawner()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _terminate(proc: subprocess.Popen[bytes], time: TimeService | None, grace: float) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds, reap the leader."""
    pgid = proc.pid  # started with process_group=0: the group id is the leader's pid
    if proc.poll() is None:
        _signal_group(pgid, signal.SIGTERM)
        if time is not None:
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        if proc.poll() is None:
            _signal_group(pgid, signal.SIGKILL)
    proc.wait()
    # Anything the leader started in its group goes too.
    _signal_group(pgid, signal.SIGKILL)


def _tail(path: Path) -> str:
    """The last lines of a log, scrubbed of known secrets."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            data = f.read()
    except OSError:
        return ""
    # Python tracebacks underline with ^~~~ lines: no information, and they crowd the tail.
    lines = [ln.rstrip() for ln in data.decode("utf-8", "replace").splitlines()
             if ln.strip() and not _UNDERLINE.match(ln)]
    text = "\n".join(lines[-_TAIL_LINES:])
    return scrub(text[-_TAIL_CHARS:])


_UNDERLINE = re.compile(r"\s*[~^]+\s*$")
_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
_ADDRESS_IN_USE = re.compile(r"address already in use|errno 98|couldn't bind", re.I)


# -- the service ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerInfo:
    """A running server, as ``ps`` shows it."""

    alias: str
    model_path: str
    pid: int
    port: int
    command: tuple[str, ...]
    runtime: str
    started_at: datetime
    uptime_seconds: float
    idle_seconds: float
    state: str  # starting | busy | idle
    base_url: str
    log_path: str
    #: the chat format used because the GGUF has no chat template, if any
    chat_format_fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["command"] = list(self.command)
        out["started_at"] = self.started_at.isoformat().replace("+00:00", "Z")
        return out


@dataclass(eq=False)
class _Server:
    alias: UserAlias
    model_path: Path
    runtime: Runtime
    key: tuple[Any, ...]
    argv: tuple[str, ...]
    port: int
    proc: subprocess.Popen[bytes]
    api_key: str = dataclasses.field(repr=False)
    log_path: Path
    started_at: datetime
    started_mono: float
    last_used: float
    busy: int = 0
    ready: bool = False
    #: the fallback chat format it was started with (a GGUF without a chat template)
    fallback: str | None = None
    chat_template: bool | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"


@dataclass(frozen=True, eq=False)
class _Plan:
    """What a request needs: its alias's server, as ``_ensure`` starts it."""

    alias: UserAlias
    model_path: Path
    runtime: Runtime
    merged: Args
    key: tuple[Any, ...]
    fallback: str | None
    template: bool | None


_SERVICES: weakref.WeakSet[LocalLlmService] = weakref.WeakSet()
_CREATOR_PID = os.getpid()


@atexit.register
def _close_all() -> None:
    if os.getpid() != _CREATOR_PID:  # a forked child does not own our servers
        return
    for service in list(_SERVICES):
        try:
            service.close()
        except Exception:  # noqa: BLE001 - the interpreter is exiting; close the rest
            _log.warning("closing a llama.cpp server at exit failed", exc_info=True)


class LocalLlmService:
    """Starts, reuses and stops the one llama.cpp server of this process. Thread-safe."""

    def __init__(self, settings: SettingService, time: TimeService, *,
                 python: str | None = None, start_timeout: float = 120.0,
                 stop_grace: float = 5.0, poll_interval: float = 0.25) -> None:
        self._settings = settings
        self._time = time
        self._python = python
        self._start_timeout = start_timeout
        self._stop_grace = stop_grace
        self._poll_interval = poll_interval
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._timer: threading.Thread | None = None
        self._templates: dict[tuple[str, int, int], bool | None] = {}
        #: requests waiting for the server, in arrival order (see ``_admit``)
        self._waiting: collections.deque[object] = collections.deque()
        _SERVICES.add(self)

    def __repr__(self) -> str:
        server = self._server
        what = f"{server.alias.alias!r} pid {server.proc.pid}" if server else "no server"
        return f"<LocalLlmService {what}>"

    # -- public API ---------------------------------------------------------------------

    def target_for(self, alias: UserAlias, model_path: str | os.PathLike[str]) -> ChatTarget:
        """Start (or reuse) the server for ``alias`` and say where to send chat requests.

        A different alias, model file or argument set stops the running server first. The
        keep-alive countdown restarts; prefer :meth:`using` around a request, which also
        keeps the server from being stopped while the request runs."""
        with self._lock:
            server = self._ensure(self._plan(alias, Path(model_path)))
            server.last_used = self._time.monotonic()
            self._cond.notify_all()
            return self._target(server)

    @contextmanager
    def using(self, alias: UserAlias, model_path: str | os.PathLike[str], *,
              on_event: EventCallback | None = None) -> Iterator[ChatTarget]:
        """``with service.using(alias, path) as target:`` one request. The server is busy
        (never stopped for idleness) inside the block; the keep-alive countdown starts when
        the block ends, and with BODHI_KEEP_ALIVE_SECS=0 the server stops right then.
        ``on_event`` hears about a start and the model (see the module docstring)."""
        with self._lock:
            plan = self._plan(alias, Path(model_path))
            self._admit(plan)
            server = self._ensure(plan, on_event)
            server.busy += 1
            target = self._target(server)
        if on_event is not None:
            on_event("model", {"alias": alias.alias, "chat_template": server.chat_template,
                               "fallback": server.fallback})
        try:
            yield target
        finally:
            with self._lock:
                server.busy -= 1
                server.last_used = self._time.monotonic()
                if (server is self._server and server.busy == 0
                        and self._keep_alive() == 0):
                    self._stop_locked()
                self._cond.notify_all()

    def running(self) -> list[ServerInfo]:
        """The running server, if any (a list, so a later version can run several)."""
        server = self._server  # a snapshot; never blocks on a start in progress
        if server is None:
            return []
        now = self._time.monotonic()
        state = ("starting" if not server.ready else "busy" if server.busy else "idle")
        return [ServerInfo(
            alias=server.alias.alias, model_path=str(server.model_path), pid=server.proc.pid,
            port=server.port, command=server.argv, runtime=server.runtime.kind.value,
            started_at=server.started_at, uptime_seconds=max(0.0, now - server.started_mono),
            idle_seconds=0.0 if server.busy else max(0.0, now - server.last_used),
            state=state, base_url=server.base_url, log_path=str(server.log_path),
            chat_format_fallback=server.fallback)]

    def stop(self) -> bool:
        """Stop the server (SIGTERM, then SIGKILL after a grace period). True if one ran."""
        with self._lock:
            return self._stop_locked()

    def reap_idle(self) -> bool:
        """Stop the server if it has been idle longer than the keep-alive. True if stopped."""
        with self._lock:
            server = self._server
            if server is None:
                return False
            remaining = self._idle_remaining(server)
            if remaining is None or remaining > 0:
                return False
            _log.info("stopping the llama.cpp server of %s after the keep-alive",
                      server.alias.alias)
            return self._stop_locked()

    def close(self) -> None:
        """Stop the server; the registry calls this, and so does interpreter exit."""
        self.stop()

    # -- internals ----------------------------------------------------------------------

    def _keep_alive(self) -> int:
        return int(self._settings.get("BODHI_KEEP_ALIVE_SECS"))

    def _idle_remaining(self, server: _Server) -> float | None:
        """Seconds until an idle stop; None when none is due: busy, starting, a negative
        keep-alive (never), or 0 (the end of a ``using()`` block stops it, nothing else)."""
        keep_alive = self._keep_alive()
        if server.busy or not server.ready or keep_alive <= 0:
            return None
        return server.last_used + keep_alive - self._time.monotonic()

    def _target(self, server: _Server) -> ChatTarget:
        source = server.alias.source
        if source not in (AliasSource.USER, AliasSource.MODEL):
            source = AliasSource.USER
        return ChatTarget(base_url=server.base_url, model=server.alias.alias,
                          alias=server.alias.alias, source=source, api_key=server.api_key)

    def _admit(self, plan: _Plan) -> None:
        """Wait (the lock held by the caller, released while waiting) until this request may
        use the one server: requests are admitted in arrival order (FIFO), and one is
        admitted when the server is free, stopped, or already serves its plan; so requests
        for the same alias share the server, and one for another alias waits for the
        requests in flight to end, without later arrivals overtaking it."""
        ticket = object()
        self._waiting.append(ticket)
        try:
            while not (self._waiting[0] is ticket and self._may_use(plan)):
                self._cond.wait()
        finally:
            self._waiting.remove(ticket)
            self._cond.notify_all()

    def _may_use(self, plan: _Plan) -> bool:
        server = self._server
        return (server is None or server.busy == 0 or server.key == plan.key
                or server.proc.poll() is not None)

    def _plan(self, alias: UserAlias, model_path: Path) -> _Plan:
        """The runtime, flags and identity (``key``) of the server ``alias`` needs."""
        if not model_path.is_file():
            raise ModelFileMissingError(alias=alias.alias, path=str(model_path))
        runtime = resolve_runtime(str(self._settings.get("BODHI_LLAMA_SERVER")), self._python)
        merged = server_args(runtime.kind, alias.alias,
                             str(self._settings.get("BODHI_LLAMACPP_ARGS")), alias.context_params)
        template = self._has_chat_template(model_path)
        fallback = None
        if template is False and not any(flag in merged for flag in _TEMPLATE_FLAGS):
            fallback = FALLBACK_CHAT_FORMAT
            merged.update(_fallback_args(runtime.kind))
        key = (alias.alias, str(model_path.resolve()), runtime, tuple(merged.items()))
        return _Plan(alias, model_path, runtime, merged, key, fallback, template)

    def _ensure(self, plan: _Plan, on_event: EventCallback | None = None) -> _Server:
        current = self._server
        if current is not None:
            if current.key == plan.key and current.proc.poll() is None:
                current.alias = plan.alias  # request params may have changed; the server not
                return current
            self._stop_locked()
        server = self._start_locked(plan.alias, plan.model_path, plan.runtime, plan.merged,
                                    plan.key, on_event)
        server.fallback, server.chat_template = plan.fallback, plan.template
        return server

    def _has_chat_template(self, model_path: Path) -> bool | None:
        """Whether the GGUF names a chat template; None when it cannot be read (the runtime
        then reports the problem itself). Cached by path, size and modification time."""
        from bodhi_nb.errors import GgufInvalidError

        try:
            st = model_path.stat()
        except OSError:
            return None
        key = (str(model_path), st.st_size, st.st_mtime_ns)
        if key not in self._templates:
            try:
                found: bool | None = read_gguf_metadata(model_path).chat_template is not None
            except GgufInvalidError:
                found = None
            self._templates[key] = found
        return self._templates[key]

    def _start_locked(self, alias: UserAlias, model_path: Path, runtime: Runtime, merged: Args,
                      key: tuple[Any, ...], on_event: EventCallback | None = None) -> _Server:
        logs = self._settings.home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"llama-{re.sub(r'[^A-Za-z0-9._-]+', '_', alias.alias)[:80]}.log"
        for attempt in (1, 2):
            port = free_port()
            api_key = secrets.token_urlsafe(24)
            register_secret(api_key)
            argv = tuple(server_argv(runtime, merged, model_path, alias.alias, port))
            proc = self._spawn(argv, _child_env(runtime.kind, os.environ, api_key), log_path,
                               alias.alias)
            now = self._time.monotonic()
            server = _Server(alias, model_path, runtime, key, argv, port, proc, api_key,
                             log_path, self._time.utc_now(), now, now)
            self._server = server
            try:
                self._wait_ready(server, last_attempt=attempt == 2, on_event=on_event)
            except _PortTaken:
                self._server = None
                continue
            except BaseException:
                self._server = None
                _terminate(proc, self._time, self._stop_grace)
                raise
            server.ready = True
            server.last_used = self._time.monotonic()
            if on_event is not None:
                on_event("started", {"alias": alias.alias,
                                     "seconds": server.last_used - server.started_mono})
            self._ensure_timer()
            _log.info("llama.cpp server for %s ready on port %d (pid %d)", alias.alias, port,
                      proc.pid)
            return server
        raise AssertionError("unreachable")  # pragma: no cover

    def _spawn(self, argv: Sequence[str], env: dict[str, str], log_path: Path,
               alias: str) -> subprocess.Popen[bytes]:
        hook = _parent_death_hook()

        def start() -> subprocess.Popen[bytes]:
            with log_path.open("wb") as log:
                return subprocess.Popen(
                    list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    env=env, close_fds=True, process_group=0, preexec_fn=hook)

        try:
            return _SPAWNER.run(start)
        except OSError as exc:  # not executable, vanished since resolve_runtime, ...
            raise StartFailedError(alias=alias, exit_code="none",
                                   log=str(log_path), stderr_tail=scrub(str(exc))) from exc

    def _wait_ready(self, server: _Server, *, last_attempt: bool,
                    on_event: EventCallback | None = None) -> None:
        deadline = self._time.monotonic() + self._start_timeout
        while True:
            if on_event is not None:
                on_event("starting", {"alias": server.alias.alias, "seconds": max(
                    0.0, self._time.monotonic() - server.started_mono)})
            code = server.proc.poll()
            if code is not None:
                tail = _tail(server.log_path)
                missing = _MISSING_MODULE.search(tail)
                if server.runtime.kind is RuntimeKind.LLAMA_CPP_PYTHON and missing:
                    raise RuntimeMissingError(module=missing.group(1))
                if not last_attempt and _ADDRESS_IN_USE.search(tail):
                    raise _PortTaken
                raise StartFailedError(alias=server.alias.alias, exit_code=code,
                                       log=str(server.log_path), stderr_tail=tail)
            if _healthy(server.port, server.runtime.health_path, server.api_key):
                return
            if self._time.monotonic() >= deadline:
                raise StartTimeoutError(alias=server.alias.alias,
                                        seconds=f"{self._start_timeout:g}",
                                        log=str(server.log_path),
                                        stderr_tail=_tail(server.log_path))
            self._time.sleep(self._poll_interval)

    def _stop_locked(self) -> bool:
        server, self._server = self._server, None
        self._cond.notify_all()
        if server is None:
            return False
        _terminate(server.proc, self._time, self._stop_grace)
        _log.info("stopped the llama.cpp server of %s (pid %d)", server.alias.alias,
                  server.proc.pid)
        return True

    def _ensure_timer(self) -> None:
        if self._timer is None or not self._timer.is_alive():
            self._timer = threading.Thread(target=self._keep_alive_loop, daemon=True,
                                           name="bodhi-llama-keep-alive")
            self._timer.start()

    def _keep_alive_loop(self) -> None:
        with self._cond:
            while True:
                server = self._server
                if server is None:
                    self._timer = None
                    return
                try:
                    remaining = self._idle_remaining(server)
                    if remaining is not None and remaining <= 0:
                        self.reap_idle()
                        continue
                except Exception:  # noqa: BLE001 - a bad setting must not kill the watcher
                    _log.warning("keep-alive check failed", exc_info=True)
                    remaining = None
                # Woken at once by any change; re-checks each second (the clock is the
                # TimeService's, which a test may move).
                self._cond.wait(1.0 if remaining is None else min(max(remaining, 0.05), 1.0))


class _PortTaken(Exception):
    """The free port was taken between picking it and the server binding it."""


def _healthy(port: int, path: str, api_key: str) -> bool:
    from http.client import HTTPConnection, HTTPException

    conn = HTTPConnection(HOST, port, timeout=2.0)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {api_key}"})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except (OSError, HTTPException):
        return False
    finally:
        conn.close()
