"""What CI, the container and a fresh machine install: the pinned lock files cover every dependency
pyproject.toml names, the Dockerfile uses them as a non-root user, and the compose file is valid."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from bot.kernel import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pinned(lock: Path) -> dict[str, str]:
    pins = {}
    for line in lock.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_the_lock_files_pin_every_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    extras = {_name(r) for group in project["optional-dependencies"].values() for r in group}
    prod, dev = _pinned(ROOT / "requirements.lock"), _pinned(ROOT / "requirements-dev.lock")
    assert runtime - prod.keys() == set(), "run deploy/lock.sh"
    assert (runtime | extras) - dev.keys() == set(), "run deploy/lock.sh"
    assert all(prod[n] == dev[n] for n in runtime), "the two locks disagree: run deploy/lock.sh"


def test_both_commands_and_the_image_install_from_the_locks() -> None:
    assert "requirements-dev.lock" in (ROOT / "test.sh").read_text()
    assert "requirements.lock" in (ROOT / "start.sh").read_text()
    docker = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.lock" in docker
    users = re.findall(r"^USER (\S+)", docker, flags=re.M)
    assert users and users[-1] not in ("root", "0")


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed here")
def test_the_compose_file_is_valid() -> None:
    env = os.environ | {
        "POSTGRES_PASSWORD": "x",
        "TOCNS_DOMAIN": "tocns.example.org",
        "TOCNS_TELEGRAM_WEBHOOK_SECRET": "y",
    }
    out = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "deploy" / "compose.yaml"), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for service in ("db:", "migrate:", "worker1:", "worker2:", "proxy:"):
        assert service in out.stdout
    assert "TOCNS_TELEGRAM_MODE: webhook" in out.stdout
    # Each worker: migrations are the `migrate` service's alone (docs/deploy.md), not auto_migrate's
    # default (on) — the workers used to leave it on.
    services = re.split(r"\n  (?=\w[\w-]*:\n)", out.stdout.split("services:", 1)[1])
    workers = [s for s in services if s.startswith(("worker1:", "worker2:"))]
    assert len(workers) == 2 and all('TOCNS_DATABASE_AUTO_MIGRATE: "false"' in w for w in workers), workers
