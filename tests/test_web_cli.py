"""`tocns web link` and `tocns run` in console mode: the dashboard's address and a demo leader's
sign-in link are printed next to the console prompt, and the link signs in."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from tests.web_support import LINK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tocns(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_web_link_for_a_demo_person_and_a_channel_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOCNS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TOCNS_WEB_PUBLIC_URL", "https://tocns.example.vn")
    code, out = tocns(capsys, "web", "link", "--as", "lanhdao")
    assert code == 2 and "demo-lanhdao" in out  # not seeded yet: no such account
    assert tocns(capsys, "demo", "seed")[0] == 0
    code, out = tocns(capsys, "web", "link", "--as", "lanhdao")
    assert code == 0, out
    assert re.search(r"https://tocns\.example\.vn/web/login\?t=\S{20,}", out)
    code, out = tocns(capsys, "web", "link", "--channel", "telegram", "--user-id", "424242")
    assert code == 2 and "424242" in out
    code, out = tocns(capsys, "web", "link", "--as", "dan")  # a citizen: no dashboard
    assert code == 2 and "lãnh đạo" in out
    assert tocns(capsys, "web", "link")[0] == 2


def test_run_in_console_mode_prints_the_dashboard_and_a_leader_link(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TOCNS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "TOCNS_WEB_PORT": str(port),
        "TOCNS_TELEGRAM_TOKEN": "",
    }
    env.pop("TOCNS_ZALO_BOT_TOKEN", None)
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "seed"], env=env, check=True, capture_output=True
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--as", "lanhdao"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not LINK.search(seen):
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        assert f"http://127.0.0.1:{port}/web/" in seen, seen
        link = LINK.search(seen)
        assert link, seen
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(link.group(0), timeout=10) as r:  # signs in, follows the redirects
            assert r.status == 200
            assert "Phường Thuận Hóa" in r.read().decode()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # end of input ends the console chat and the web server with it
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
