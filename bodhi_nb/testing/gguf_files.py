"""Real, small GGUF files for tests, written with the ``gguf`` package's own writer.

``make_gguf(path)`` writes a valid GGUF v3 file (llama.cpp's ``gguf-dump`` and
``gguf.GGUFReader`` read it) with a few tiny F32 tensors. ``size_bytes`` pads the file to
about that size with one extra I8 tensor whose zero bytes are written sparsely, so a
"1 GiB model" costs neither time nor disk.

``put_in_hf_cache`` stores a file in a Hugging Face cache the way ``hf_hub_download`` does
(``blobs/{sha256}``, a relative symlink under ``snapshots/{commit}``, ``refs/{ref}``), for
tests that need a "downloaded" model without a hub.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

__all__ = ["make_gguf", "nested_array_gguf", "put_in_hf_cache"]

_ALIGN = 32


def make_gguf(
    path: str | os.PathLike[str],
    *,
    arch: str = "llama",
    context_length: int | None = 4096,
    chat_template: str | None = None,
    name: str = "bodhi-test-model",
    n_tensors: int = 2,
    size_bytes: int | None = None,
    file_type: int | None = None,
    size_label: str | None = None,
    vocab: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    byte_order: Literal["little", "big"] = "little",
) -> Path:
    """Write a GGUF model file and return its path.

    ``size_bytes`` is a target for the whole file: the result is within 32 bytes of it
    (exact when the difference to the unpadded size is a multiple of 32), and never smaller
    than the unpadded file. ``vocab`` adds ``tokenizer.ggml.tokens``; ``extra`` adds keys
    (str, bool, int, float or a list of those).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write = functools.partial(
        _write, path, arch=arch, context_length=context_length, chat_template=chat_template,
        name=name, n_tensors=n_tensors, file_type=file_type, size_label=size_label,
        vocab=vocab, extra=extra, byte_order=byte_order)
    if size_bytes is None:
        write(pad=0)
        return path
    # The padding tensor's size is a fixed-width field, so one trial run measures the rest.
    write(pad=_ALIGN)
    base = path.stat().st_size - _ALIGN
    write(pad=max(_ALIGN, (size_bytes - base) // _ALIGN * _ALIGN))
    return path


def nested_array_gguf(path: str | os.PathLike[str], depth: int) -> Path:
    """A GGUF v3 file (no tensors) whose one key holds arrays nested ``depth`` levels deep,
    the innermost holding one uint32: what a hostile or broken converter may write."""
    import struct

    key = b"bodhi.nested"
    body = struct.pack("<4sIQQ", b"GGUF", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    body += struct.pack("<I", 9)  # the key's value is an array ...
    body += struct.pack("<IQ", 9, 1) * (depth - 1)  # ... of one array, depth - 1 times
    body += struct.pack("<IQI", 4, 1, 7)  # the innermost: one uint32
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def _write(path: Path, *, pad: int, arch: str, context_length: int | None,
           chat_template: str | None, name: str, n_tensors: int, file_type: int | None,
           size_label: str | None, vocab: Sequence[str] | None,
           extra: Mapping[str, Any] | None, byte_order: str) -> None:
    import gguf
    import numpy as np

    endian = gguf.GGUFEndian.BIG if byte_order == "big" else gguf.GGUFEndian.LITTLE
    writer = gguf.GGUFWriter(path, arch, endianess=endian)
    writer.add_name(name)
    if context_length is not None:
        writer.add_context_length(context_length)
    writer.add_embedding_length(8)
    writer.add_block_count(max(n_tensors, 1))
    if chat_template is not None:
        writer.add_chat_template(chat_template)
    if file_type is not None:
        writer.add_file_type(file_type)
    if size_label is not None:
        writer.add_size_label(size_label)
    if vocab is not None:
        writer.add_tokenizer_model("llama")
        writer.add_token_list(list(vocab))
    for key, value in (extra or {}).items():
        _add(writer, gguf, key, value)
    tensors = [np.arange(64, dtype=np.float32).reshape(8, 8) + i for i in range(n_tensors)]
    for i, tensor in enumerate(tensors):
        writer.add_tensor(f"blk.{i}.weight", tensor)
    if pad:
        writer.add_tensor_info("padding", (pad,), np.dtype(np.int8), pad)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in tensors:
        writer.write_tensor_data(tensor)
    if pad:
        assert writer.fout is not None
        out = writer.fout[0]
        writer.write_padding(out, out.tell())
        out.flush()
        out.truncate(out.tell() + pad)  # zeros, without writing them
    writer.close()


def _add(writer: Any, gguf: Any, key: str, value: Any) -> None:
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_uint32(key, value) if 0 <= value < 2**32 else writer.add_int64(key, value)
    elif isinstance(value, float):
        writer.add_float32(key, value)
    elif isinstance(value, str):
        writer.add_string(key, value)
    elif isinstance(value, (list, tuple)):
        writer.add_array(key, list(value))
    else:
        raise TypeError(f"unsupported GGUF value for {key}: {type(value).__name__}")


def put_in_hf_cache(
    cache: str | os.PathLike[str],
    repo: str,
    filename: str,
    content: bytes | os.PathLike[str],
    *,
    commit: str | None = None,
    ref: str | None = "main",
) -> Path:
    """Store ``content`` as ``repo``'s ``filename`` in the HF cache folder ``cache``.

    The blob is named by the content's SHA-256 (an LFS file's etag), the snapshot link is
    relative, and ``refs/{ref}`` holds the commit without a newline, as huggingface_hub
    writes them. ``commit`` defaults to a hash of the repo id, so files put for one repo
    share a snapshot. A path is hard-linked into ``blobs/`` when possible (else copied).
    Returns the snapshot path.
    """
    owner, name = repo.split("/", 1)
    storage = Path(cache) / f"models--{owner}--{name}"
    commit = commit or hashlib.sha1(repo.encode()).hexdigest()
    (storage / "blobs").mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        etag = hashlib.sha256(content).hexdigest()
        blob = storage / "blobs" / etag
        blob.write_bytes(content)
    else:
        digest = hashlib.sha256()
        with open(content, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        blob = storage / "blobs" / digest.hexdigest()
        if not blob.exists():
            try:
                os.link(content, blob)
            except OSError:
                shutil.copyfile(content, blob)
    link = storage / "snapshots" / commit / filename
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(blob, link.parent))
    if ref is not None:
        ref_path = storage / "refs" / ref
        ref_path.parent.mkdir(parents=True, exist_ok=True)
        ref_path.write_text(commit)
    return link
