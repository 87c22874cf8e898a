"""Redaction: the one place that decides how a secret looks when it must be shown at all.

Every repr, log call and error message in bodhi_nb that refers to a value known to be secret
(a token, an API key, the master key) goes through :func:`redact`. Objects that hold secrets
have reprs built from it, so they show ``***`` and at most the last four characters.

As a safety net, values handled by SecretService are *registered* here (in memory only) and
:func:`scrub` replaces any registered value found in a piece of text. The log filter from
:func:`get_logger` scrubs every record of bodhi_nb's loggers that way.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

__all__ = [
    "MASK",
    "RedactingFilter",
    "SecretStr",
    "get_logger",
    "is_sensitive_key",
    "redact",
    "redact_url",
    "register_secret",
    "scrub",
    "strip_control",
]

MASK = "***"
#: Values shorter than this show only the mask: four characters of a short value are too
#: large a part of it.
_MIN_LEN_FOR_TAIL = 12
_SENSITIVE_KEY = re.compile(r"(token|secret|passw|api[_-]?key|private|credential|master)",
                            re.IGNORECASE)
# Values shorter than this are not worth scrubbing from text (they would match everywhere).
_MIN_SCRUB_LEN = 6
_MAX_REGISTERED = 4096

_registered: dict[str, None] = {}
_lock = threading.Lock()


def redact(value: object | None, *, tail: int = 4) -> str:
    """``***`` plus at most the last ``tail`` (<= 4) characters of a long enough value.

    ``tail=0`` shows the mask alone (use it for keys). ``None`` and empty values show the
    mask too, so the output never tells whether a secret is set.
    """
    if value is None:
        return MASK
    text = value.hex() if isinstance(value, (bytes, bytearray)) else str(value)
    tail = max(0, min(tail, 4))
    if tail == 0 or len(text) < _MIN_LEN_FOR_TAIL:
        return MASK
    return MASK + text[-tail:]


_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")
# Whole escape sequences first (CSI ``ESC [ ... m``, OSC ``ESC ] ... BEL``), then any other
# C0/C1 control character but tab and newline, and DEL.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def redact_url(text: object) -> str:
    """``http://user:pw@host/x`` -> ``http://***@host/x``, for every URL inside ``text``.

    Use it on anything that may hold an endpoint before it reaches an output, an error
    argument, a log line or a database row.
    """
    return _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", str(text))


def strip_control(text: object) -> str:
    """Drop control characters (terminal escape sequences among them) from text a server
    sent, before it is printed; tabs and newlines are kept."""
    return _CONTROL.sub("", str(text))


def is_sensitive_key(key: str) -> bool:
    """Whether a mapping key names a secret (``access_token``, ``api_key``, ...)."""
    return bool(_SENSITIVE_KEY.search(key))


def register_secret(value: str | None) -> None:
    """Remember ``value`` so :func:`scrub` hides it from any text (kept in memory only)."""
    if not value or len(value) < _MIN_SCRUB_LEN:
        return
    with _lock:
        _registered[value] = None
        while len(_registered) > _MAX_REGISTERED:
            _registered.pop(next(iter(_registered)))


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by its redacted form."""
    with _lock:
        known = [v for v in _registered if v in text]
    # Longest first, so a secret that contains another is replaced whole.
    for value in sorted(known, key=len, reverse=True):
        text = text.replace(value, redact(value))
    return text


class SecretStr(str):
    """A ``str`` whose repr is redacted, so ``Out[n]``, tracebacks and containers never show
    it. ``str()``, f-strings and comparisons still give the real value to code that needs it
    (an ``Authorization`` header), on purpose."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"SecretStr({redact(str.__str__(self))!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class RedactingFilter(logging.Filter):
    """Scrubs registered secrets from a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def get_logger(name: str) -> logging.Logger:
    """A bodhi_nb logger whose records are scrubbed before any handler sees them."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    # A library's records go where the application sends them, not to stderr by default
    # (Python's last-resort handler): what a user must see, a command says in its output.
    root = logging.getLogger("bodhi_nb")
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    return logger
