"""Alias writes survive SIGKILL: a reader sees the old or the new file, never a part.

A helper process (fresh interpreter, single-threaded, bodhi_nb already imported) forks one
writer per round; the writer rewrites the same alias in a tight loop, alternating two
versions; the test kills it with SIGKILL after a random delay under 20 ms (a few writes)
and then checks the directory. Forking from the helper keeps 200 rounds to a few seconds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from bodhi_nb.objs import OAIRequestParams, UserAlias
from bodhi_nb.services.data import DataService
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import DefaultTimeService

ROUNDS = 200
REPO = "acme/tiny"

HELPER = r'''
import os, sys
from bodhi_nb.objs import OAIRequestParams, UserAlias
from bodhi_nb.services.data import DataService
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import DefaultTimeService

settings = SettingService()
service = DataService(settings, HfCache(settings.hf_cache), DefaultTimeService())
PROMPT = "p" * 8000  # pages, so a torn write would be visible
versions = [
    UserAlias(alias="victim", repo="acme/tiny", filename=f"v{i}.gguf",
              request_params=OAIRequestParams(temperature=t, system_prompt=PROMPT * (i + 1)),
              context_params=(f"--ctx-size {4096 * (i + 1)}",))
    for i, t in enumerate((0.1, 0.9))
]
service.save_alias(versions[0])
print("ready", flush=True)
for rounds, line in enumerate(sys.stdin):
    if line.strip() != "go":
        break
    pid = os.fork()
    if pid == 0:
        try:
            i = rounds  # alternate the first version written, however slow the disk
            while True:
                service.save_alias(versions[i % 2])
                i += 1
        finally:
            os._exit(0)
    print(pid, flush=True)
    assert sys.stdin.readline().strip() == "reap"
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
'''


def expected_versions() -> list[UserAlias]:
    prompt = "p" * 8000
    return [
        UserAlias(alias="victim", repo=REPO, filename=f"v{i}.gguf",
                  request_params=OAIRequestParams(temperature=t, system_prompt=prompt * (i + 1)),
                  context_params=(f"--ctx-size {4096 * (i + 1)}",))
        for i, t in enumerate((0.1, 0.9))
    ]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_killed_writers_leave_old_or_new_alias(subprocess_env: dict[str, str],
                                               settings: SettingService) -> None:
    service = DataService(settings, HfCache(settings.hf_cache), DefaultTimeService())
    bystander = UserAlias(alias="bystander", repo=REPO, filename="b.gguf")
    service.create_alias(bystander)
    versions = expected_versions()
    seen: set[str] = set()
    interrupted = 0
    rng = random.Random(4)
    with subprocess.Popen([sys.executable, "-c", HELPER], env=subprocess_env,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as helper:
        assert helper.stdin is not None and helper.stdout is not None
        try:
            assert helper.stdout.readline().strip() == "ready"
            for _ in range(ROUNDS):
                helper.stdin.write("go\n")
                helper.stdin.flush()
                pid = int(helper.stdout.readline())
                time.sleep(rng.uniform(0, 0.02))
                os.kill(pid, signal.SIGKILL)
                helper.stdin.write("reap\n")
                helper.stdin.flush()
                status = int(helper.stdout.readline())
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
                if any(temp_files(service)):
                    interrupted += 1

                listing = service.list_aliases()
                assert listing.problems == []
                assert [a.alias for a in listing.user] == ["bystander", "victim"]
                victim = service.get_alias("victim")
                assert victim in versions
                seen.add(victim.filename)
                assert service.get_alias("bystander") == bystander
            helper.stdin.write("stop\n")
            helper.stdin.flush()
            assert helper.wait(timeout=30) == 0
        finally:
            if helper.poll() is None:
                helper.kill()
    # Every file in the folder is an alias that parses, the lock, or a hidden temp file of a
    # killed write (never listed; the next write under the lock sweeps it).
    names = sorted(p.name for p in service.aliases_dir.iterdir())
    visible = [n for n in names if not n.startswith(".")]
    assert visible == ["bystander.yaml", "victim.yaml"]
    assert len(temp_files(service)) <= 1
    assert set(names) - set(visible) - {".lock"} == set(temp_files(service))
    # Kills did land in the middle of writes, and both versions were seen after some kill.
    assert interrupted > 0, "no kill interrupted a write; the test missed the window"
    assert seen == {"v0.gguf", "v1.gguf"}
    service.save_alias(versions[0])
    assert temp_files(service) == []


def temp_files(service: DataService) -> list[str]:
    return [p.name for p in service.aliases_dir.iterdir()
            if p.name.startswith(".") and p.name.endswith(".tmp")]
