"""GGUF metadata from real files written by the gguf package; quantisation names."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import gguf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bodhi_nb.errors import GgufInvalidError, QuantAmbiguousError, QuantNotFoundError
from bodhi_nb.gguf import (
    MAX_ARRAY_DEPTH,
    is_shard,
    quant_from_file_type,
    quant_from_filename,
    read_gguf_metadata,
    resolve_quant,
    shard_files,
    shard_index,
)
from bodhi_nb.testing.gguf_files import make_gguf, nested_array_gguf

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


@pytest.mark.parametrize(("arch", "ctx", "template"), [
    ("llama", 4096, None),
    ("qwen2", 32768, TEMPLATE),
    ("gemma3", 131072, TEMPLATE),
    ("phi3", None, None),
])
def test_metadata_of_generated_models(tmp_path: Path, arch: str, ctx: int | None,
                                      template: str | None) -> None:
    path = make_gguf(tmp_path / f"{arch}.gguf", arch=arch, context_length=ctx,
                     chat_template=template, name=f"tiny {arch}", n_tensors=3)
    meta = read_gguf_metadata(path)
    assert (meta.architecture, meta.context_length, meta.chat_template) == (arch, ctx, template)
    assert meta.name == f"tiny {arch}"
    assert (meta.version, meta.byte_order, meta.tensor_count) == (3, "little", 3)
    assert meta.parameter_count == 3 * 64
    assert meta.file_size == path.stat().st_size
    assert meta.to_dict()["has_chat_template"] is (template is not None)
    # The same values as the gguf package's own (slow) reader sees.
    reader = gguf.GGUFReader(path)
    arch_field = reader.get_field("general.architecture")
    assert arch_field is not None and arch_field.contents() == arch
    assert len(reader.tensors) == meta.tensor_count
    assert sum(int(t.n_elements) for t in reader.tensors) == meta.parameter_count
    if ctx is not None:
        ctx_field = reader.get_field(f"{arch}.context_length")
        assert ctx_field is not None and ctx_field.contents() == ctx


def test_quantisation_from_file_type_wins_over_the_filename(tmp_path: Path) -> None:
    from_type = read_gguf_metadata(make_gguf(tmp_path / "m-Q8_0.gguf", file_type=15,
                                             size_label="1B"))
    assert (from_type.file_type, from_type.quantization) == (15, "Q4_K_M")
    assert from_type.size_label == "1B"
    from_name = read_gguf_metadata(make_gguf(tmp_path / "model.Q5_K_S.gguf"))
    assert (from_name.file_type, from_name.quantization) == (None, "Q5_K_S")
    # A suffix that does not look like a quantisation is not reported as one.
    assert read_gguf_metadata(make_gguf(tmp_path / "llama-chat.gguf")).quantization is None
    assert quant_from_file_type(0) == "F32"
    assert quant_from_file_type(1024) is None  # GUESSED
    assert quant_from_file_type(9999) is None


def test_kv_table_and_array_lengths(tmp_path: Path) -> None:
    path = make_gguf(tmp_path / "v.gguf", vocab=["<s>", "</s>", "a"],
                     extra={"bodhi.flag": True, "bodhi.ratio": 0.5, "bodhi.list": [1, 2, 3]})
    meta = read_gguf_metadata(path)
    assert meta.arrays == {"tokenizer.ggml.tokens": 3, "bodhi.list": 3}
    assert meta.kv["bodhi.flag"] is True
    assert meta.kv["bodhi.ratio"] == pytest.approx(0.5)
    assert meta.kv["tokenizer.ggml.model"] == "llama"


def test_nested_arrays_are_read_up_to_a_bound(tmp_path: Path) -> None:
    """Issue 8 item 11: arrays of arrays 100,000 deep used to recurse until RecursionError
    escaped (and ``ls`` failed for every model); past the bound they are a GGUF error."""
    ok = read_gguf_metadata(nested_array_gguf(tmp_path / "ok.gguf", MAX_ARRAY_DEPTH))
    assert ok.arrays == {"bodhi.nested": 1}
    for depth in (MAX_ARRAY_DEPTH + 1, 100_000):
        path = nested_array_gguf(tmp_path / f"deep-{depth}.gguf", depth)
        with pytest.raises(GgufInvalidError) as err:
            read_gguf_metadata(path)
        assert err.value.code == "data_service_error-gguf_invalid"
        assert f"nested more than {MAX_ARRAY_DEPTH} levels" in err.value.params["reason"]


def test_big_endian_and_version_2_files(tmp_path: Path) -> None:
    big = read_gguf_metadata(make_gguf(tmp_path / "be.gguf", byte_order="big",
                                       arch="gemma3", context_length=8192))
    assert (big.byte_order, big.architecture, big.context_length) == ("big", "gemma3", 8192)
    path = make_gguf(tmp_path / "v2.gguf")
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack("<I", 2)  # v2 and v3 share the layout
    path.write_bytes(bytes(raw))
    assert read_gguf_metadata(path).version == 2


@pytest.mark.parametrize("version", [1, 4, 0x1234])
def test_unsupported_versions_are_refused(tmp_path: Path, version: int) -> None:
    path = make_gguf(tmp_path / "v.gguf")
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack("<I", version)
    path.write_bytes(bytes(raw))
    with pytest.raises(GgufInvalidError) as err:
        read_gguf_metadata(path)
    assert err.value.code == "data_service_error-gguf_invalid"
    assert f"version {version}" in err.value.params["reason"]


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "empty"),
    (b"PK\x03\x04 this is a zip file, not a model" * 4, "not a GGUF file"),
    (b"GGUF\x03\x00", "truncated"),
    (os.urandom(4096), "not a GGUF file"),
])
def test_garbage_is_a_clear_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GgufInvalidError) as err:
        read_gguf_metadata(path)
    assert err.value.code == "data_service_error-gguf_invalid"
    assert reason in err.value.params["reason"]
    assert err.value.params["path"] == str(path)


def test_missing_file_and_directory_are_gguf_errors(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.gguf", tmp_path):
        with pytest.raises(GgufInvalidError):
            read_gguf_metadata(path)


def test_every_truncation_point_is_detected(tmp_path: Path) -> None:
    """Cut a complete file at every byte: each prefix is refused, with a "truncated" reason
    once the magic is intact (a half-finished download must never pass as a model)."""
    full = make_gguf(tmp_path / "full.gguf", chat_template=TEMPLATE, vocab=["a", "b"],
                     n_tensors=2).read_bytes()
    data_start = len(full) - 2 * 256  # two 8x8 F32 tensors at the end
    cut = tmp_path / "cut.gguf"
    # Every byte of the header, key/values and tensor directory; a sample of the data.
    for n in [*range(1, data_start), *range(data_start, len(full), 17), len(full) - 1]:
        cut.write_bytes(full[:n])
        with pytest.raises(GgufInvalidError) as err:
            read_gguf_metadata(cut)
        if n >= 4:
            assert "truncated" in err.value.params["reason"], n
    cut.write_bytes(full)
    assert read_gguf_metadata(cut).architecture == "llama"


def test_truncated_tensor_data_of_a_padded_file(tmp_path: Path) -> None:
    path = make_gguf(tmp_path / "big.gguf", size_bytes=3_000_000)
    size = path.stat().st_size
    assert abs(size - 3_000_000) < 32
    with open(path, "r+b") as handle:
        handle.truncate(size - 1)
    with pytest.raises(GgufInvalidError) as err:
        read_gguf_metadata(path)
    assert "tensor data needs" in err.value.params["reason"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_headers_never_escape_as_other_exceptions(tmp_path: Path,
                                                            data: st.DataObject) -> None:
    base = _small_file(tmp_path)
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, min(len(raw) - 1, 400)))
        raw[pos] = data.draw(st.integers(0, 255))
    path = tmp_path / "fuzz.gguf"
    path.write_bytes(bytes(raw))
    try:
        meta = read_gguf_metadata(path)
    except GgufInvalidError as exc:
        assert exc.params["reason"]
    else:
        assert meta.version in (2, 3)


_SMALL: dict[str, bytes] = {}


def _small_file(tmp_path: Path) -> bytes:
    if "file" not in _SMALL:
        _SMALL["file"] = make_gguf(tmp_path / "small.gguf", chat_template=TEMPLATE,
                                   vocab=["x", "y"], file_type=7).read_bytes()
    return _SMALL["file"]


def test_reading_is_fast_for_big_vocabularies_and_files(tmp_path: Path) -> None:
    vocab = [f"token{i}" for i in range(100_000)]
    path = make_gguf(tmp_path / "vocab.gguf", vocab=vocab, size_bytes=1 << 30)
    assert path.stat().st_size >= (1 << 30) - 32
    start = time.perf_counter()
    meta = read_gguf_metadata(path)
    elapsed = time.perf_counter() - start
    assert meta.arrays["tokenizer.ggml.tokens"] == 100_000
    assert meta.parameter_count is not None and meta.parameter_count > 1 << 29
    # gguf.GGUFReader needs several seconds for this vocabulary; the header walk does not.
    assert elapsed < 1.5


def test_make_gguf_size_target(tmp_path: Path) -> None:
    small = make_gguf(tmp_path / "s.gguf")
    for target in (small.stat().st_size + 1000, 2 * 1024 * 1024, 5_000_017):
        path = make_gguf(tmp_path / f"t{target}.gguf", size_bytes=target)
        assert 0 <= target - path.stat().st_size < 32
        assert len(gguf.GGUFReader(path).tensors) == 3  # two weights + the padding
    tiny = make_gguf(tmp_path / "tiny.gguf", size_bytes=10)  # below the minimum
    assert tiny.stat().st_size >= small.stat().st_size


# -- quantisation names ---------------------------------------------------------------------

@pytest.mark.parametrize(("filename", "quant"), [
    ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("llama-2-7b-chat.Q8_0.gguf", "Q8_0"),
    ("gemma-3-270m-it-IQ4_XS.gguf", "IQ4_XS"),
    ("Q8_0/Meta-Llama-3.1-70B-Q8_0-00002-of-00003.gguf", "Q8_0"),
    ("tinyllama.gguf", "tinyllama"),
    ("mmproj-model-f16.gguf", "f16"),
])
def test_quant_from_filename(filename: str, quant: str) -> None:
    assert quant_from_filename(filename) == quant


@given(base=st.from_regex(r"[A-Za-z0-9_.-]{0,30}", fullmatch=True),
       quant=st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True),
       sep=st.sampled_from(["-", "."]))
def test_quant_property_text_after_last_separator(base: str, quant: str, sep: str) -> None:
    name = f"{base}{sep}{quant}.gguf"
    assert quant_from_filename(name) == quant
    assert quant_from_filename(f"sub/dir/{name}") == quant
    shard = f"{base}{sep}{quant}-00001-of-00004.gguf"
    assert quant_from_filename(shard) == quant
    assert is_shard(shard) and shard_index(shard) == 1 and not is_shard(name)
    # Resolution finds it whatever the case of the request.
    assert resolve_quant(["README.md", name], quant.swapcase()) == name


REPO_FILES = [
    "README.md", "config.json",
    "Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Llama-3.2-1B-Instruct-Q8_0.gguf",
    "Llama-3.2-1B-Instruct-f16.gguf", "mmproj-Llama-3.2-1B-Instruct-f16.gguf",
    "mmproj-Llama-3.2-1B-Instruct-Q6_K.gguf",
    "Q2_K/Llama-3.2-1B-Instruct-Q2_K-00002-of-00002.gguf",
    "Q2_K/Llama-3.2-1B-Instruct-Q2_K-00001-of-00002.gguf",
]


def test_resolve_quant() -> None:
    assert resolve_quant(REPO_FILES, "q4_k_m") == "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
    assert resolve_quant(REPO_FILES, "Q8_0") == "Llama-3.2-1B-Instruct-Q8_0.gguf"
    # The model beats its vision projector; a projector-only quant still resolves.
    assert resolve_quant(REPO_FILES, "F16") == "Llama-3.2-1B-Instruct-f16.gguf"
    assert resolve_quant(REPO_FILES, "Q6_K") == "mmproj-Llama-3.2-1B-Instruct-Q6_K.gguf"
    first = resolve_quant(REPO_FILES, "Q2_K")
    assert first == "Q2_K/Llama-3.2-1B-Instruct-Q2_K-00001-of-00002.gguf"
    assert shard_files(REPO_FILES, first) == [
        "Q2_K/Llama-3.2-1B-Instruct-Q2_K-00001-of-00002.gguf",
        "Q2_K/Llama-3.2-1B-Instruct-Q2_K-00002-of-00002.gguf"]
    assert shard_files(REPO_FILES, "Llama-3.2-1B-Instruct-Q8_0.gguf") == [
        "Llama-3.2-1B-Instruct-Q8_0.gguf"]


def test_resolve_quant_errors() -> None:
    with pytest.raises(QuantNotFoundError) as missing:
        resolve_quant(REPO_FILES, "Q5_K_M")
    assert missing.value.code == "data_service_error-quant_not_found"
    assert missing.value.params["available"] == "f16, Q2_K, Q4_K_M, Q8_0"
    with pytest.raises(QuantNotFoundError) as none:
        resolve_quant(["README.md"], "Q4_K_M")
    assert none.value.params["available"] == "none"
    with pytest.raises(QuantAmbiguousError) as ambiguous:
        resolve_quant(["a-Q4_K_M.gguf", "b-Q4_K_M.gguf", "c-Q8_0.gguf"], "Q4_K_M")
    assert ambiguous.value.code == "data_service_error-quant_ambiguous"
    assert ambiguous.value.params["candidates"] == "a-Q4_K_M.gguf, b-Q4_K_M.gguf"
