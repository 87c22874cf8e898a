"""DataService: user aliases on disk, model aliases from the cache, API aliases, local models."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bodhi_nb.app import build_app_service
from bodhi_nb.errors import (
    AliasExistsError,
    AliasFileConflictError,
    AliasFileError,
    AliasNotFoundError,
    InvalidAliasNameError,
    InvalidLocalFilenameError,
    InvalidRepoError,
    InvalidValueError,
    ServiceNotAvailableError,
)
from bodhi_nb.objs import AliasSource, ApiAlias, OAIRequestParams, Repo, UserAlias
from bodhi_nb.services.cache import CacheService
from bodhi_nb.services.data import DataService, alias_filename, check_alias_name
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import FrozenTimeService
from bodhi_nb.testing.gguf_files import make_gguf, put_in_hf_cache

REPO = "bartowski/Llama-3.2-1B-Instruct-GGUF"
FILE = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"


@pytest.fixture
def clock() -> FrozenTimeService:
    return FrozenTimeService()


@pytest.fixture
def service(settings: SettingService, clock: FrozenTimeService) -> DataService:
    return DataService(settings, HfCache(settings.hf_cache), clock,
                       cache=CacheService(clock))


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_gguf(tmp_path / "src" / "m.gguf", arch="llama", context_length=8192,
                     chat_template="{{ messages }}")


def alias(name: str = "llama3:instruct", **kw: object) -> UserAlias:
    fields: dict[str, object] = {"alias": name, "repo": REPO, "filename": FILE, **kw}
    return UserAlias(**fields)  # type: ignore[arg-type]


# -- CRUD -----------------------------------------------------------------------------------

def test_create_writes_a_bodhiapp_style_yaml_file(service: DataService) -> None:
    created = service.create_alias(alias(
        request_params=OAIRequestParams(temperature=0.2, stop=("END",)),
        context_params=("--ctx-size 4096",)))
    path = service.aliases_dir / "llama3--instruct.yaml"
    data = yaml.safe_load(path.read_text())
    assert data == {
        "alias": "llama3:instruct", "repo": REPO, "filename": FILE, "snapshot": "main",
        "request_params": {"stop": ["END"], "temperature": 0.2},
        "context_params": ["--ctx-size 4096"],
        "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
    }
    assert service.get_alias("llama3:instruct") == created
    assert created.source is AliasSource.USER
    assert [a.alias for a in service.list_aliases().user] == ["llama3:instruct"]
    with pytest.raises(AliasExistsError) as err:
        service.create_alias(alias(filename="other.gguf"))
    assert err.value.code == "data_service_error-alias_exists"
    assert yaml.safe_load(path.read_text())["filename"] == FILE  # untouched


def test_save_update_keep_created_at(service: DataService, clock: FrozenTimeService) -> None:
    service.create_alias(alias())
    clock.advance(3600)
    service.save_alias(alias(request_params=OAIRequestParams(top_p=0.5)))
    record = service.alias_record("llama3:instruct")
    assert record.alias.request_params.top_p == 0.5
    assert (record.created_at is not None and record.updated_at is not None
            and (record.updated_at - record.created_at).total_seconds() == 3600)
    service.save_alias(alias("fresh"))  # save creates when absent
    assert service.get_alias("fresh").alias == "fresh"
    renamed = service.update_alias("llama3:instruct", alias("llama3:chat"))
    assert renamed.alias == "llama3:chat"
    assert not (service.aliases_dir / "llama3--instruct.yaml").exists()
    assert service.alias_record("llama3:chat").created_at == record.created_at
    with pytest.raises(AliasExistsError):
        service.update_alias("llama3:chat", alias("fresh"))
    with pytest.raises(AliasNotFoundError):
        service.update_alias("gone", alias("gone"))


def test_copy_and_delete_errors_by_code(service: DataService, settings: SettingService,
                                        model: Path) -> None:
    service.create_alias(alias("a"))
    service.create_alias(alias("b"))
    copied = service.copy_alias("a", "c")
    assert (copied.alias, copied.repo, copied.filename) == ("c", REPO, FILE)
    for args, error in ((("a", "b"), AliasExistsError), (("nope", "d"), AliasNotFoundError)):
        with pytest.raises(error) as err:
            service.copy_alias(*args)
        assert err.value.code == error.code
    # A model alias can be copied to a user alias.
    put_in_hf_cache(settings.hf_cache, REPO, FILE, model)
    mine = service.copy_alias(f"{REPO}:Q4_K_M", "mine")
    assert mine.source is AliasSource.USER and mine.filename == FILE
    assert service.delete_alias("c") == service.aliases_dir / "c.yaml"
    assert not (service.aliases_dir / "c.yaml").exists()
    with pytest.raises(AliasNotFoundError) as err:
        service.delete_alias("c")
    assert err.value.code == "data_service_error-alias_not_found"
    with pytest.raises(AliasNotFoundError):
        service.delete_alias(f"{REPO}:Q4_K_M")  # model aliases are not files
    with pytest.raises(AliasNotFoundError):
        service.get_alias("c")


def test_names_that_share_a_file_conflict(service: DataService) -> None:
    service.create_alias(alias("llama3:instruct"))
    assert (service.aliases_dir / "llama3--instruct.yaml").exists()
    with pytest.raises(AliasFileConflictError) as err:
        service.create_alias(alias("llama3--instruct"))
    assert err.value.code == "data_service_error-alias_file_conflict"
    assert err.value.params["other"] == "llama3:instruct"


def test_names_the_file_would_change_are_refused(service: DataService) -> None:
    for name in ("my model!", "a\\b", "what?", "x*", ".hidden", "tab\tname"):
        with pytest.raises(InvalidAliasNameError) as err:
            service.create_alias(alias(name))
        assert err.value.code == "data_service_error-invalid_alias_name"
    assert not service.aliases_dir.exists() or not any(service.aliases_dir.glob("*.yaml"))


def test_create_validates(service: DataService) -> None:
    for name in (" x", "x ", "a\nb", "..", "...", "\u200b", "x" * 256):
        with pytest.raises(InvalidAliasNameError) as err:
            service.create_alias(alias(name))
        assert err.value.code == "data_service_error-invalid_alias_name"
    with pytest.raises(InvalidLocalFilenameError):
        service.create_alias(alias("x", filename="../../etc/passwd"))
    with pytest.raises(InvalidValueError) as bad_ctx:
        service.create_alias(alias("x", context_params=("ctx-size 4096",)))
    assert bad_ctx.value.code == "obj_validation_error-invalid_value"
    with pytest.raises(InvalidRepoError):
        alias("x", repo="not-a-repo")
    assert not service.aliases_dir.exists() or not any(service.aliases_dir.glob("*.yaml"))


def test_create_refuses_request_params_the_reader_would_skip(service: DataService) -> None:
    """Issue 8 item 10: an alias written with max_tokens beyond llama.cpp's int32 was
    stored, then skipped by every listing."""
    from bodhi_nb.errors import BadParamError

    with pytest.raises(BadParamError) as err:
        service.create_alias(alias(request_params=OAIRequestParams(max_tokens=10**12)))
    assert err.value.params["name"] == "max_tokens"
    assert not service.aliases_dir.exists() or not any(service.aliases_dir.glob("*.yaml"))
    made = service.create_alias(alias(request_params=OAIRequestParams(
        max_tokens=64, temperature=0.5, stop=("###",), system_prompt="Be brief.")))
    assert service.get_alias(made.alias).request_params.stop == ("###",)


def test_create_pins_a_downloaded_file_to_its_commit(service: DataService,
                                                     settings: SettingService,
                                                     model: Path) -> None:
    assert service.create_alias(alias("later")).snapshot == "main"  # not downloaded: kept
    link = put_in_hf_cache(settings.hf_cache, REPO, FILE, model)
    commit = link.parent.name
    assert service.create_alias(alias("now")).snapshot == commit


# -- reading hand-written and broken files --------------------------------------------------

def write(service: DataService, name: str, text: str) -> Path:
    service.aliases_dir.mkdir(parents=True, exist_ok=True)
    path = service.aliases_dir / name
    path.write_text(text)
    return path


def test_bodhiapp_files_are_read(service: DataService) -> None:
    write(service, "classic.yml", f"alias: classic\nrepo: {REPO}\nfilename: {FILE}\n"
                                  "snapshot: main\nsource: user\n"
                                  "request_params: {temperature: 0.7, stop: '###'}\n"
                                  "context_params: ['--n-gpu-layers 99']\n")
    got = service.get_alias("classic")
    assert got.request_params.temperature == 0.7 and got.request_params.stop == ("###",)
    assert got.context_params == ("--n-gpu-layers 99",)
    assert service.alias_record("classic").created_at is None


def test_malformed_files_are_reported_and_skipped(service: DataService) -> None:
    service.create_alias(alias("good"))
    bad = {
        "broken.yaml": ("alias: [unclosed\n", "line"),
        "list.yaml": ("- a\n- b\n", "mapping"),
        "partial.yaml": (f"alias: partial\nrepo: {REPO}\n", "missing filename"),
        "hot.yaml": (f"alias: hot\nrepo: {REPO}\nfilename: f.gguf\n"
                     "request_params: {temperature: 9}\n", "bad_param"),
        "ctx.yaml": (f"alias: ctx\nrepo: {REPO}\nfilename: f.gguf\ncontext_params: x\n",
                     "context_params"),
        "repo.yaml": ("alias: repo\nrepo: nope\nfilename: f.gguf\n", "invalid_repo"),
        "zdup.yaml": (f"alias: good\nrepo: {REPO}\nfilename: other.gguf\n", "duplicate"),
    }
    for name, (text, _) in bad.items():
        write(service, name, text)
    (service.aliases_dir / "binary.yaml").write_bytes(b"\xff\xfe\x00bad")
    bad["binary.yaml"] = ("", "UTF-8")
    write(service, "notes.txt", "not an alias")
    write(service, ".hidden.yaml", "alias: [")

    listing = service.list_aliases()
    assert [a.alias for a in listing.user] == ["good"]
    assert service.get_alias("good").filename == FILE  # the first file wins over the duplicate
    problems = {p.path.name: p.error for p in listing.problems}
    assert set(problems) == set(bad)
    for name, (_, needle) in bad.items():
        assert needle in problems[name], (name, problems[name])
    assert all(p.path.parent == service.aliases_dir for p in listing.problems)
    assert listing.problems[0].to_dict()["path"].endswith(".yaml")


BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]"
    for i in range(8)]) + f"\nalias: bomb\nrepo: {REPO}\nfilename: f.gguf\n"


@pytest.mark.parametrize(("text", "needle"), [
    # Issue 8 item 10: OverflowError escaped and hid every alias.
    (f"alias: inf\nrepo: {REPO}\nfilename: f.gguf\nrequest_params: {{max_tokens: .inf}}\n",
     "max_tokens"),
    (f"alias: nan\nrepo: {REPO}\nfilename: f.gguf\nrequest_params: {{temperature: .nan}}\n",
     "temperature"),
    (f"alias: t\nrepo: {REPO}\nfilename: f.gguf\nrequest_params: {{top_p: [1]}}\n", "top_p"),
    (f"alias: s\nrepo: {REPO}\nfilename: f.gguf\nrequest_params: {{seed: abc}}\n", "seed"),
    (f"alias: c\nrepo: {REPO}\nfilename: f.gguf\ncontext_params: [{{a: 1}}]\n",
     "context_params"),
    # A billion laughs: 10^9 x's once expanded (took minutes and gigabytes before).
    (BOMB, "anchors and aliases"),
    (f"alias: &n anchored\nrepo: {REPO}\nfilename: f.gguf\n", "anchors and aliases"),
    (f"alias: deep\nrepo: {REPO}\nfilename: f.gguf\nx: " + "[" * 200 + "]" * 200 + "\n",
     "nested more than"),
    (f"alias: big\nrepo: {REPO}\nfilename: f.gguf\n# " + "x" * (1 << 20) + "\n",
     "larger than"),
])
def test_hostile_alias_files_are_reported_and_the_others_listed(
        service: DataService, text: str, needle: str) -> None:
    service.create_alias(alias("good"))
    write(service, "hostile.yaml", text)
    listing = service.list_aliases()
    assert [a.alias for a in listing.user] == ["good"]
    (problem,) = listing.problems
    assert problem.path.name == "hostile.yaml" and needle in problem.error, problem.error
    assert problem.to_dict()["code"] == "data_service_error-alias_file"


def test_a_broken_file_is_named_when_its_alias_is_asked_for(service: DataService) -> None:
    write(service, "llama3--instruct.yaml", "alias: [\n")
    for call in (service.get_alias, service.find_alias):
        with pytest.raises(AliasFileError) as err:
            call("llama3:instruct")
        assert err.value.code == "data_service_error-alias_file"
        assert err.value.params["path"].endswith("llama3--instruct.yaml")
    with pytest.raises(AliasFileError):
        service.create_alias(alias())  # never overwrite a file the user may want back
    # Removing it is the fix the message names.
    assert service.delete_alias("llama3:instruct").name == "llama3--instruct.yaml"
    assert service.create_alias(alias()).alias == "llama3:instruct"


def test_edits_on_disk_are_seen(service: DataService) -> None:
    service.create_alias(alias("x"))
    path = service.aliases_dir / "x.yaml"
    text = path.read_text().replace(FILE, "edited.gguf")
    path.write_text(text + "# edited\n")
    assert service.get_alias("x").filename == "edited.gguf"


# -- model and API aliases, lookup order ----------------------------------------------------

def test_model_aliases_from_the_cache(service: DataService, settings: SettingService,
                                      model: Path) -> None:
    cache = settings.hf_cache
    main, older = "a" * 40, "b" * 40
    put_in_hf_cache(cache, REPO, "old-Q4_K_M.gguf", model, commit=older, ref=None)
    put_in_hf_cache(cache, REPO, FILE, model, commit=main)
    put_in_hf_cache(cache, REPO, "Llama-3.2-1B-Instruct.Q8_0.gguf", model, commit=main)
    put_in_hf_cache(cache, REPO, "mmproj-Llama-f16.gguf", model, commit=main)
    put_in_hf_cache(cache, "acme/big", "Q2_K/big-Q2_K-00001-of-00002.gguf", model)
    put_in_hf_cache(cache, "acme/big", "Q2_K/big-Q2_K-00002-of-00002.gguf", model)
    models = {a.alias: a for a in service.model_aliases()}
    assert sorted(models) == ["acme/big:Q2_K", f"{REPO}:Q4_K_M", f"{REPO}:Q8_0"]
    assert (models[f"{REPO}:Q4_K_M"].filename, models[f"{REPO}:Q4_K_M"].snapshot) == (FILE, main)
    assert models["acme/big:Q2_K"].filename.endswith("00001-of-00002.gguf")
    assert all(a.source is AliasSource.MODEL for a in models.values())
    assert service.list_aliases().names() == sorted(models)


def test_find_alias_order_user_model_api(service: DataService, settings: SettingService,
                                         model: Path) -> None:
    put_in_hf_cache(settings.hf_cache, REPO, FILE, model)
    model_name = f"{REPO}:Q4_K_M"
    api = ApiAlias(id="openai", base_url="https://api.openai.com/v1", models=("gpt-4o",),
                   prefix="oai/")
    catch_all = ApiAlias(id="router", base_url="https://example.com/v1", prefix="r/",
                         forward_all_with_prefix=True)
    service.api_alias_provider = lambda: [catch_all, api]
    found = service.find_alias(model_name)
    assert isinstance(found, UserAlias) and found.source is AliasSource.MODEL
    assert service.find_alias("oai/gpt-4o") == api
    assert service.find_alias("openai") == api
    assert service.find_alias("r/anything") == catch_all
    assert service.find_alias("nothing") is None
    # A user alias of the same name shadows the model alias; an API alias's id is shadowed too.
    service.create_alias(alias(model_name, filename="mine.gguf"))
    service.create_alias(alias("openai"))
    shadow = service.find_alias(model_name)
    assert isinstance(shadow, UserAlias) and shadow.source is AliasSource.USER
    assert shadow.filename == "mine.gguf"
    assert isinstance(service.find_alias("openai"), UserAlias)
    assert [a.id for a in service.list_aliases().api] == ["openai", "router"]

    def failing() -> list[ApiAlias]:
        raise ServiceNotAvailableError(service="ai_api")

    service.api_alias_provider = failing
    assert service.find_alias("oai/gpt-4o") is None
    assert service.list_aliases().api == []


# -- local models ---------------------------------------------------------------------------

def test_local_models_with_metadata_and_aliases(service: DataService,
                                                settings: SettingService,
                                                model: Path) -> None:
    put_in_hf_cache(settings.hf_cache, REPO, FILE, model)
    put_in_hf_cache(settings.hf_cache, REPO, "broken-Q8_0.gguf", b"not a gguf at all")
    service.create_alias(alias("chat"))
    by_name = {m.file.filename: m for m in service.local_models()}
    good, broken = by_name[FILE], by_name["broken-Q8_0.gguf"]
    assert good.file.filename == FILE
    assert good.metadata is not None and good.metadata.context_length == 8192
    assert good.metadata.chat_template == "{{ messages }}"
    assert good.aliases == (f"{REPO}:Q4_K_M", "chat")
    assert broken.metadata is None and broken.problem and "not a GGUF file" in broken.problem
    # Metadata is cached by path, size and mtime...
    assert service.cache is not None
    cached = len(service.cache)
    service.local_models()
    assert len(service.cache) == cached
    # ...and re-read when the file changes.
    make_gguf(good.file.path.resolve(), context_length=2048)
    assert service.gguf_metadata(good.file.path).context_length == 2048


def test_registry_builds_the_data_service(settings: SettingService) -> None:
    registry = build_app_service(settings)
    try:
        data = registry.data_service()
        assert isinstance(data, DataService)
        assert data.hf_cache.root == settings.hf_cache
        assert data.aliases_dir == settings.home / "aliases"
        assert data.cache is registry.cache_service()
    finally:
        registry.db.close()


# -- properties -----------------------------------------------------------------------------

ALIASES_DIR = Path("/srv/bodhi/aliases")


@given(st.text(max_size=400))
def test_alias_filename_never_escapes_and_is_deterministic(name: str) -> None:
    kept = {c for c in name
            if not (c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs"))}
    try:
        filename = alias_filename(name)
    except InvalidAliasNameError:
        assert kept <= {"."}  # only when nothing but dots would be left
        return
    assert not kept <= {"."}
    assert filename == alias_filename(name)
    assert filename.endswith(".yaml")
    assert not filename.startswith(".")
    assert "/" not in filename and "\\" not in filename and "\x00" not in filename
    assert len(filename.encode("utf-8")) <= 255
    path = ALIASES_DIR / filename
    assert os.path.normpath(path).startswith(str(ALIASES_DIR) + os.sep)
    assert path.resolve().parent == ALIASES_DIR.resolve()
    assert Path(filename).name == filename


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1,
               max_size=300))
def test_valid_alias_names_can_be_written(name: str) -> None:
    try:
        check_alias_name(name)
    except InvalidAliasNameError:
        return
    filename = alias_filename(name)
    assert filename.encode("utf-8")  # encodable, so the file system accepts it


def test_alias_filename_examples() -> None:
    assert alias_filename("llama3:instruct") == "llama3--instruct.yaml"
    assert alias_filename('a<b>c"d/e\\f|g?h*i') == "a--b--c--d--e--f--g--h--i.yaml"
    assert alias_filename("my model\t1") == "mymodel1.yaml"
    assert alias_filename("../../etc/passwd") == "--..--etc--passwd.yaml"
    assert alias_filename(".hidden") == "hidden.yaml"
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    assert alias_filename(long_a) != alias_filename(long_b)
    assert len(alias_filename("é" * 300).encode()) <= 255
    for name in ("", "..", ".", " ", "\x00"):
        with pytest.raises(InvalidAliasNameError):
            alias_filename(name)


# What the Hub accepts for each half of a repo id (Repo refuses "..", "--" and . - at an end).
_PART = st.from_regex(r"[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,20}[a-zA-Z0-9_])?", fullmatch=True).filter(
    lambda s: ".." not in s and "--" not in s)


@given(owner=_PART, name=_PART)
def test_repo_parse_round_trips(owner: str, name: str) -> None:
    repo = Repo.parse(f"{owner}/{name}")
    assert (repo.owner, repo.name, repo.id) == (owner, name, f"{owner}/{name}")
    assert Repo.from_dict(repo.to_dict()) == repo
    assert HfCache.repo_from_folder(repo.cache_folder) == repo


@given(st.text(max_size=40))
def test_repo_parse_accepts_only_owner_slash_name(value: str) -> None:
    try:
        repo = Repo.parse(value)
    except InvalidRepoError as exc:
        assert exc.code == "obj_validation_error-invalid_repo"
        return
    assert repo.id == value and value.count("/") == 1
