from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bodhi_nb.errors import InvalidEnumError, InvalidRepoError, OutOfRangeError
from bodhi_nb.objs import (
    ApiAlias,
    DownloadRequest,
    DownloadStatus,
    HubFile,
    OAIRequestParams,
    Repo,
    ResourceRole,
    UserAccessRequest,
    UserAlias,
    new_ulid,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", ["owner/name", "a-b/c.d_e", "bartowski/Llama-3.2-1B-GGUF"])
def test_repo_accepts_owner_slash_name(value: str) -> None:
    repo = Repo.parse(value)
    assert str(repo) == value
    assert repo.cache_folder == "models--" + value.replace("/", "--")


@pytest.mark.parametrize("value", ["noslash", "a/b/c", "/name", "owner/", "o w/n", "o/n?"])
def test_repo_rejects_bad_ids(value: str) -> None:
    with pytest.raises(InvalidRepoError) as info:
        Repo.parse(value)
    assert info.value.code == "obj_validation_error-invalid_repo"


def test_hub_file_path_follows_hf_cache_layout() -> None:
    f = HubFile("/c", "o/n", "m.gguf", "abc123")
    assert str(f.path) == "/c/models--o--n/snapshots/abc123/m.gguf"


@pytest.mark.parametrize(("field", "value"), [("temperature", 2.5), ("top_p", -0.1),
                                              ("frequency_penalty", 3), ("max_tokens", 0)])
def test_request_params_range_checks(field: str, value: float) -> None:
    with pytest.raises(OutOfRangeError) as info:
        OAIRequestParams(**{field: value})  # type: ignore[arg-type]
    assert info.value.params["name"] == field


def test_request_params_apply_only_where_request_is_silent() -> None:
    params = OAIRequestParams(temperature=0.2, seed=7, max_tokens=50, system_prompt="Be brief.")
    merged = params.apply({"temperature": 0.9, "messages": [{"role": "user", "content": "hi"}]})
    assert merged["temperature"] == 0.9
    assert merged["seed"] == 7
    assert merged["max_completion_tokens"] == 50 and "max_tokens" not in merged
    assert merged["messages"][0] == {"role": "system", "content": "Be brief."}
    kept = params.apply({"max_tokens": 5, "messages": [{"role": "system", "content": "x"}]})
    assert "max_completion_tokens" not in kept
    assert [m["content"] for m in kept["messages"]] == ["x"]


def test_user_alias_yaml_and_json_round_trip() -> None:
    alias = UserAlias("tiny:chat", "o/n", "m-Q4_K_M.gguf", "main",
                      OAIRequestParams(temperature=0.1, stop=("\n",)), ("--ctx-size 4096",))
    assert UserAlias.from_yaml(alias.to_yaml()) == alias
    assert UserAlias.from_json(alias.to_json()) == alias
    assert "request_params" not in UserAlias("a", "o/n", "f.gguf").to_dict()


def test_api_alias_prefix_rules() -> None:
    api = ApiAlias("openai", "https://api.example/v1", models=("gpt-4o",), prefix="oa/")
    assert api.supports("oa/gpt-4o") and not api.supports("gpt-4o")
    assert api.strip_prefix("oa/gpt-4o") == "gpt-4o"
    fwd = ApiAlias("fwd", "http://127.0.0.1:1/v1", prefix="p/", forward_all_with_prefix=True)
    assert fwd.supports("p/anything") and not fwd.supports("q/anything")
    assert ApiAlias.from_json(api.to_json()) == api


def test_download_request_round_trip_and_status_check() -> None:
    req = DownloadRequest(new_ulid(), "o/n", "f.gguf", DownloadStatus.PENDING, T0, T0)
    assert DownloadRequest.from_json(req.to_json()) == req
    assert not req.active
    with pytest.raises(InvalidEnumError):
        DownloadRequest("x", "o/n", "f", "downloading", T0, T0)  # type: ignore[arg-type]
    uar = UserAccessRequest("1", "ann", "u1", "pending", T0, T0)  # type: ignore[arg-type]
    assert UserAccessRequest.from_yaml(uar.to_yaml()) == uar


def test_resource_role_order() -> None:
    order = [ResourceRole.parse(r) for r in ("anonymous", "guest", "user", "power_user",
                                             "manager", "admin")]
    assert order == sorted(order, key=lambda r: r.rank)
    assert ResourceRole.ADMIN > ResourceRole.MANAGER > ResourceRole.USER
    assert ResourceRole.POWER_USER.has_access_to(ResourceRole.USER)
    assert not ResourceRole.USER.has_access_to(ResourceRole.MANAGER)
    assert not ResourceRole.GUEST.assignable and ResourceRole.USER.assignable
    assert ResourceRole.highest(["resource_user", "x", "resource_manager"]) is (
        ResourceRole.MANAGER)
    assert ResourceRole.highest([]) is ResourceRole.GUEST


def test_ulids_are_unique_and_time_ordered() -> None:
    ids = [new_ulid(datetime(2025, 1, 1, 0, 0, s, tzinfo=UTC)) for s in range(50)]
    assert len(set(ids)) == 50 and ids == sorted(ids)
    assert all(len(i) == 26 for i in ids)


def test_ulids_from_a_second_precision_clock_still_sort_in_creation_order() -> None:
    now = datetime(2030, 6, 1, tzinfo=UTC)
    ids = [new_ulid(now) for _ in range(500)]
    assert ids == sorted(ids) and len(set(ids)) == 500
