"""GGUF metadata and quantisation names (domain layer: no services, no I/O beyond one file).

:func:`read_gguf_metadata` memory-maps the file and walks only the header, the key/value
section and the tensor directory; tensor data is never touched, so a 40 GB model reads as
fast as a 4 MB one. The value types, file-type names and block sizes come from the ``gguf``
package (imported on first use). Its ``GGUFReader`` is not used: it builds a numpy view for
every element of every array, and a 150k-token vocabulary alone takes ~10 s; here arrays
are skipped unless asked for.

Quantisation names follow BodhiApp: the text between the last ``-`` or ``.`` and the
extension (``Llama-3.2-1B-Instruct-Q4_K_M.gguf`` and ``llama-2-7b-chat.Q8_0.gguf`` ->
``Q4_K_M``, ``Q8_0``). Split files (``-00001-of-00003``) are named by the quantisation in
front of the shard suffix.
"""

from __future__ import annotations

import functools
import mmap
import os
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bodhi_nb.errors import GgufInvalidError, QuantAmbiguousError, QuantNotFoundError

__all__ = [
    "MAX_ARRAY_DEPTH",
    "SUPPORTED_VERSIONS",
    "GgufMetadata",
    "is_auxiliary",
    "is_shard",
    "quant_from_file_type",
    "quant_from_filename",
    "read_gguf_metadata",
    "resolve_quant",
    "shard_files",
    "shard_index",
]

SUPPORTED_VERSIONS = (2, 3)
_MAGIC = b"GGUF"
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})$")
#: What a quantisation name looks like, for telling ``model-Q4_K_M`` from ``model-chat``.
_QUANT_SHAPE = re.compile(r"^(?:I?Q\d\w*|B?F(?:16|32|64)|TQ\d\w*|MXFP\d\w*|NVFP\d\w*)$",
                          re.IGNORECASE)
_STRING, _ARRAY = 8, 9
#: Arrays of arrays deeper than this are refused. Real models nest at most one level
#: (merges are strings); without a bound a hostile file recurses until RecursionError.
MAX_ARRAY_DEPTH = 8


class _Bad(Exception):
    """A structural problem; the message is the user-facing reason."""


class _Truncated(_Bad):
    pass


@dataclass(frozen=True)
class GgufMetadata:
    """What bodhi_nb needs to know about a model file. ``kv`` holds every scalar value."""

    path: str
    version: int
    byte_order: str
    file_size: int
    tensor_count: int
    architecture: str | None = None
    name: str | None = None
    context_length: int | None = None
    chat_template: str | None = None
    file_type: int | None = None
    quantization: str | None = None
    parameter_count: int | None = None
    size_label: str | None = None
    kv: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: array-valued keys and their lengths (``tokenizer.ggml.tokens``: 128256, ...)
    arrays: Mapping[str, int] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (without the raw key/value table)."""
        return {
            "path": self.path,
            "version": self.version,
            "byte_order": self.byte_order,
            "file_size": self.file_size,
            "tensor_count": self.tensor_count,
            "architecture": self.architecture,
            "name": self.name,
            "context_length": self.context_length,
            "has_chat_template": self.chat_template is not None,
            "file_type": self.file_type,
            "quantization": self.quantization,
            "parameter_count": self.parameter_count,
            "size_label": self.size_label,
        }


# -- quantisation names ---------------------------------------------------------------------


def is_shard(filename: str) -> bool:
    """True for split-model parts such as ``model-Q8_0-00002-of-00003.gguf``."""
    return bool(_SHARD.search(_stem(filename)))


def _stem(filename: str) -> str:
    base = PurePosixPath(filename).name
    return base.rsplit(".", 1)[0] if "." in base else base


def quant_from_filename(filename: str) -> str:
    """BodhiApp's rule: the text between the last ``-`` or ``.`` and the extension.

    A shard suffix is ignored; a name with no separator is its own quantisation.
    """
    stem = _SHARD.sub("", _stem(filename))
    cut = max(stem.rfind("-"), stem.rfind("."))
    quant = stem[cut + 1:]
    return quant or stem.strip("-.") or stem


def quant_from_file_type(file_type: int | None) -> str | None:
    """``general.file_type`` 15 -> ``Q4_K_M``; None when unknown or "guessed"."""
    if file_type is None:
        return None
    from gguf import LlamaFileType

    try:
        member = LlamaFileType(int(file_type))
    except ValueError:
        return None
    if member is LlamaFileType.GUESSED:
        return None
    return member.name.removeprefix("MOSTLY_").removeprefix("ALL_")


def is_auxiliary(filename: str) -> bool:
    """True for files that ride along with a model (``mmproj-*`` vision projectors)."""
    return PurePosixPath(filename).name.lower().startswith("mmproj")


def _shard_key(filename: str) -> tuple[str, int]:
    path = PurePosixPath(filename)
    stem = _stem(filename)
    match = _SHARD.search(stem)
    if not match:
        return filename, 0
    return str(path.parent / (_SHARD.sub("", stem) + path.name[len(stem):])), int(match[1])


def shard_index(filename: str) -> int:
    """1-based part number of a split model file; 0 for an unsplit file."""
    return _shard_key(filename)[1]


def shard_files(filenames: Iterable[str], first: str) -> list[str]:
    """All parts of the split model that ``first`` belongs to (just ``[first]`` if unsplit)."""
    key = _shard_key(first)[0]
    if not is_shard(first):
        return [first]
    parts = [f for f in filenames if is_shard(f) and _shard_key(f)[0] == key]
    return sorted(set(parts), key=lambda f: _shard_key(f)[1])


def resolve_quant(filenames: Iterable[str], quant: str) -> str:
    """The ``.gguf`` among ``filenames`` whose quantisation is ``quant`` (case-insensitive).

    A split model resolves to its first part (see :func:`shard_files` for the rest);
    ``mmproj`` files only count when nothing else matches. Raises ``QuantNotFoundError``
    (listing what is available) or ``QuantAmbiguousError`` (listing the candidates).
    """
    ggufs = sorted({f for f in filenames if f.lower().endswith(".gguf")})
    want = quant.strip().upper()
    matches = [f for f in ggufs if quant_from_filename(f).upper() == want]
    if not matches:
        available = sorted({quant_from_filename(f) for f in ggufs if not is_auxiliary(f)},
                           key=str.upper)
        raise QuantNotFoundError(quant=quant, available=available or ["none"])
    primary = [f for f in matches if not is_auxiliary(f)] or matches
    firsts: dict[str, tuple[int, str]] = {}
    for f in primary:
        key, index = _shard_key(f)
        if key not in firsts or index < firsts[key][0]:
            firsts[key] = (index, f)
    candidates = sorted(f for _, f in firsts.values())
    if len(candidates) > 1:
        raise QuantAmbiguousError(quant=quant, candidates=candidates)
    return candidates[0]


# -- the reader -----------------------------------------------------------------------------


@functools.cache
def _formats(byte_order: str) -> dict[int, struct.Struct]:
    from gguf import GGUFValueType as T

    chars = {T.UINT8: "B", T.INT8: "b", T.UINT16: "H", T.INT16: "h", T.UINT32: "I",
             T.INT32: "i", T.FLOAT32: "f", T.BOOL: "?", T.UINT64: "Q", T.INT64: "q",
             T.FLOAT64: "d"}
    assert (T.STRING, T.ARRAY) == (_STRING, _ARRAY)
    return {int(t): struct.Struct(byte_order + c) for t, c in chars.items()}


@functools.cache
def _block_sizes() -> dict[int, tuple[int, int]]:
    from gguf import GGML_QUANT_SIZES

    return {int(t): (int(b), int(s)) for t, (b, s) in GGML_QUANT_SIZES.items()}


class _Cursor:
    def __init__(self, buf: Any, byte_order: str) -> None:
        self.buf = buf
        self.size = len(buf)
        self.pos = 0
        self.u32 = struct.Struct(byte_order + "I")
        self.u64 = struct.Struct(byte_order + "Q")
        self.formats = _formats(byte_order)

    def take(self, fmt: struct.Struct) -> Any:
        if self.pos + fmt.size > self.size:
            raise _Truncated
        (value,) = fmt.unpack_from(self.buf, self.pos)
        self.pos += fmt.size
        return value

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise _Truncated
        self.pos += n

    def string(self) -> str:
        n = self.take(self.u64)
        start = self.pos
        self.skip(n)
        return bytes(self.buf[start:self.pos]).decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        if vtype == _STRING:
            return self.string()
        fmt = self.formats.get(vtype)
        if fmt is None:
            raise _Bad(f"unknown value type {vtype} at byte {self.pos - 4}")
        return self.take(fmt)

    def skip_array(self, depth: int = 1) -> int:
        """Skip an array value; returns its length."""
        if depth > MAX_ARRAY_DEPTH:
            raise _Bad(f"arrays nested more than {MAX_ARRAY_DEPTH} levels deep "
                       f"at byte {self.pos}")
        itype, count = self.take(self.u32), self.take(self.u64)
        if itype == _STRING:
            u64, buf, pos, size = self.u64, self.buf, self.pos, self.size
            for _ in range(count):
                if pos + 8 > size:
                    raise _Truncated
                pos += 8 + u64.unpack_from(buf, pos)[0]
            if pos > size:
                raise _Truncated
            self.pos = pos
        elif itype == _ARRAY:
            for _ in range(count):
                self.skip_array(depth + 1)
        else:
            fmt = self.formats.get(itype)
            if fmt is None:
                raise _Bad(f"unknown array item type {itype} at byte {self.pos - 12}")
            self.skip(fmt.size * count)
        return int(count)


def read_gguf_metadata(path: str | os.PathLike[str]) -> GgufMetadata:
    """Read a GGUF file's metadata. Raises ``GgufInvalidError`` for anything else."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise GgufInvalidError(path=path, reason="the file is empty")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, path, size)
    except OSError as exc:
        raise GgufInvalidError(path=path, reason=exc.strerror or type(exc).__name__) from exc


def _parse(buf: Any, path: Path, size: int) -> GgufMetadata:
    def invalid(reason: str) -> GgufInvalidError:
        return GgufInvalidError(path=path, reason=reason)

    if size < 24 or bytes(buf[:4]) != _MAGIC:
        head = bytes(buf[:4])
        if head == _MAGIC:
            raise invalid(f"truncated: {size} bytes is shorter than a GGUF header")
        raise invalid(f"not a GGUF file (it starts with {head!r}, not b'GGUF')")
    (version,) = struct.unpack_from("<I", buf, 4)
    byte_order = "<"
    if version not in SUPPORTED_VERSIONS:
        (swapped,) = struct.unpack_from(">I", buf, 4)
        if swapped in SUPPORTED_VERSIONS:
            version, byte_order = swapped, ">"
        else:
            raise invalid(f"GGUF version {version} is not supported "
                          f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))})")
    cur = _Cursor(buf, byte_order)
    cur.pos = 8
    kv: dict[str, Any] = {}
    arrays: dict[str, int] = {}
    try:
        n_tensors, n_kv = cur.take(cur.u64), cur.take(cur.u64)
        if n_tensors > size or n_kv > size:
            raise invalid(f"implausible counts ({n_tensors} tensors, {n_kv} keys)")
        for _ in range(n_kv):
            key = cur.string()
            vtype = cur.take(cur.u32)
            if vtype == _ARRAY:
                arrays[key] = cur.skip_array()
            else:
                kv[key] = cur.value(vtype)
        params, data_end = _tensor_directory(cur, n_tensors, kv)
    except _Truncated:
        raise invalid(f"truncated: the metadata runs past the end of the file "
                      f"({size} bytes)") from None
    except _Bad as exc:
        raise invalid(str(exc)) from None
    if data_end is not None and data_end > size:
        raise invalid(f"truncated: the tensor data needs {data_end} bytes, "
                      f"the file has {size}")
    arch = _str(kv.get("general.architecture"))
    file_type = kv.get("general.file_type")
    file_type = int(file_type) if isinstance(file_type, int) else None
    quant = quant_from_file_type(file_type)
    if quant is None:
        guess = quant_from_filename(path.name)
        quant = guess if _QUANT_SHAPE.match(guess) else None
    ctx = kv.get(f"{arch}.context_length") if arch else None
    return GgufMetadata(
        path=str(path), version=version, byte_order="big" if byte_order == ">" else "little",
        file_size=size, tensor_count=n_tensors, architecture=arch,
        name=_str(kv.get("general.name")),
        context_length=int(ctx) if isinstance(ctx, int) and not isinstance(ctx, bool) else None,
        chat_template=_str(kv.get("tokenizer.chat_template")),
        file_type=file_type, quantization=quant,
        parameter_count=params if n_tensors else None,
        size_label=_str(kv.get("general.size_label")),
        kv=kv, arrays=arrays,
    )


def _tensor_directory(cur: _Cursor, n_tensors: int,
                      kv: Mapping[str, Any]) -> tuple[int, int | None]:
    """Sum of element counts, and where the last tensor's data ends (None if unknown)."""
    blocks = _block_sizes()
    params = 0
    furthest: int | None = 0
    for _ in range(n_tensors):
        cur.skip(cur.take(cur.u64))  # name
        n_dims = cur.take(cur.u32)
        if n_dims > 8:
            raise _Bad(f"a tensor with {n_dims} dimensions at byte {cur.pos - 4}")
        count = 1
        for _ in range(n_dims):
            count *= cur.take(cur.u64)
        ttype, offset = cur.take(cur.u32), cur.take(cur.u64)
        params += count
        block = blocks.get(ttype)
        if block is None or furthest is None:
            furthest = None
            continue
        furthest = max(furthest, offset + count // block[0] * block[1])
    align = kv.get("general.alignment", 32)
    align = align if isinstance(align, int) and align > 0 else 32
    data_start = -(-cur.pos // align) * align
    return params, (None if furthest is None or n_tensors == 0 else data_start + furthest)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
