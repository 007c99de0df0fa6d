"""The README's console walk-through works as written: the block between the walkthrough markers
runs through `tocns chat --script` on a seeded database (volunteer, officer, citizen with a
hand-off, leader, in that order)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.assemble import build
from bot.kernel import ROOT
from tests.support import make_settings, seed_demo


def walkthrough_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- walkthrough:start -->", 1)[1].split("<!-- walkthrough:end -->", 1)[0]
    body = re.search(r"```text\n(.*?)```", block, re.DOTALL)
    assert body is not None
    return body.group(1).strip().splitlines()


def test_readme_walkthrough_order() -> None:
    people = [ln.split()[1] for ln in walkthrough_lines() if ln.startswith("#as ")]
    assert people == ["tnv", "canbo", "dan", "tnv", "dan", "lanhdao"]


def test_readme_walkthrough_runs_as_written(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the console walk-through runs on the embedded default (SQLite)")

    async def seed() -> None:
        app = build(make_settings(db_url))
        try:
            await seed_demo(app)
        finally:
            await app.close()

    asyncio.run(seed())
    script = tmp_path / "walkthrough.txt"
    script.write_text("\n".join(walkthrough_lines()) + "\n", encoding="utf-8")
    monkeypatch.setenv("TOCNS_DATABASE_URL", db_url)
    from bot.cli import main

    main(["chat", "--script", str(script)])  # returns normally; a usage error would exit 2
    out = capsys.readouterr().out
    steps = [
        "✅ Đã ghi: DVC · tại nhà · 2 người",  # volunteer
        "Tuần ",
        "✅ Đã lưu báo cáo tuần",  # officer
        "Đã gửi yêu cầu hỗ trợ (phiếu #",  # citizen
        "📨 [→ Trần Văn Minh]",
        "Anh/chị đã nhận phiếu #",  # the volunteer takes it
        "✓ Đã chuyển tới người dân",
        "vẫn mở",  # /huy says what happens to the ticket
        "✓ Đã chuyển tới người hỗ trợ",  # «ok cam on» still reaches the volunteer
        "Người dân báo đã xong việc",
        "📊 Phường Thuận Hóa",  # leader
    ]
    at = 0
    for step in steps:
        found = out.find(step, at)
        assert found >= 0, f"{step!r} missing after position {at}:\n{out[at : at + 2000]}"
        at = found
    assert "chưa hiểu" not in out and "Traceback" not in out
    assert "[→ demo-" not in out  # pushes are labelled with the person's name
