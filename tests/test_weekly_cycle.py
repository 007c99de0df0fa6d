"""The weekly cycle as communes live it, on each reporting convention: the officer answers the
week's report on Friday afternoon with plain /baocao; the Friday reminder skips that commune; on
Monday `tocns kpi show` gives report_on_time 100 for the week, no "report missing" reminder goes
out, and the leader's digest names the same lagging communes for the same reasons as the
reminders. Everything through the product's flows (dialog core, scheduler.run_job — the path of
`tocns jobs run` —, the `tocns` CLI in a subprocess) with a frozen clock."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from bot import scheduler
from bot.assemble import build
from bot.config import ConfigError
from bot.kernel import ROOT, App
from db.repositories import kpi as krepo
from handlers.core import Reply
from tests import kpi_helpers as h
from tests.kpi_helpers import TZ
from tests.support import ChatDriver, make_settings, outbox_rows, tocns_at

CONVENTIONS: dict[str, dict[str, Any]] = {
    # (a) the current week, due Friday 17:00 of that week (the default).
    "current_week": {},
    # (b) the previous week, due on a weekday of the following week; this province closes the
    # week on Thursday, so the week 13/11–19/11 is due Friday 20/11 17:00.
    "previous_week_thu": {
        "report_convention": "previous_week",
        "week_ends": "thu",
        "report_deadline": "fri 17:00",
    },
}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


FRIDAY_1400, FRIDAY_1500 = local(20, 14), local(20, 15)
MONDAY_0730, MONDAY_0800 = local(23, 7, 30), local(23, 8)


def write_config(directory: Path, kpi: dict[str, Any]) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["kpi"] = {**raw.get("kpi", {}), **kpi}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(params=sorted(CONVENTIONS))
async def cycle(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path
) -> AsyncIterator[tuple[App, Path]]:
    config = write_config(tmp_path, CONVENTIONS[request.param])
    application = build(make_settings(db_url, TOCNS_CONFIG=str(config)))
    try:
        yield application, config
    finally:
        await application.close()


async def world(app: App) -> dict[str, Any]:
    async with app.sessions() as s, s.begin():
        t = await h.tree(s)
        await krepo.upsert_target(s, t["P"].id, "online_rate", "2026-Q4", 60.0, None)
        ids = {
            "canbo": (await h.person(s, "Cán bộ Một", "officer", t["C1"])).id,
            "off_c2": (await h.person(s, "Cán bộ Hai", "officer", t["C2"])).id,
            "tl_c1": (await h.person(s, "Tổ trưởng Một", "team_leader", t["T1a"])).id,
            "leader": (await h.person(s, "Lãnh đạo tỉnh", "leader", t["P"])).id,
            "leader_c1": (await h.person(s, "Chủ tịch xã Một", "leader", t["C1"])).id,
        }
    return {"t": t, **ids}


def texts(rows: list[Any], kind: str, person: int) -> list[str]:
    return [r.payload["text"] for r in rows if r.kind == kind and r.person_id == person]


def kpi_show(db_url: str, config: Path, unit: str, week: str) -> str:
    env = {**os.environ, "TOCNS_DATABASE_URL": db_url, "TOCNS_CONFIG": str(config), "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "kpi", "show", "--unit", unit, "--week", week],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def figure(table: str, indicator: str) -> str:
    line = next(x for x in table.splitlines() if indicator in x)
    return line.split("│")[2].strip()


async def test_friday_report_is_on_time_and_everyone_agrees(cycle: tuple[App, Path], db_url: str) -> None:
    app, config = cycle
    ids = await world(app)
    # Friday 14:00: plain /baocao, as the reminder and the help say.
    said = await h.baocao(app, ids["canbo"], FRIDAY_1400, "40 20 10 30 28 2 25 12")
    assert "Đã lưu báo cáo tuần 47/2026" in said and "đúng hạn" in said, said
    assert "17:00 thứ Sáu 20/11/2026" in said

    # Friday 15:00 reminder: names week 47 and its deadline, and skips the commune that reported.
    assert (await scheduler.run_job(app, "report_reminder", FRIDAY_1500)).period == "2026-W47"
    rows = await outbox_rows(app)
    assert texts(rows, "report_reminder", ids["canbo"]) == []
    (c2,) = texts(rows, "report_reminder", ids["off_c2"])
    assert "tuần 47/2026" in c2 and "hạn 17:00 thứ Sáu 20/11/2026" in c2 and "/baocao" in c2

    # Monday: the digest, then the reminders, for week 47.
    assert (await scheduler.run_job(app, "weekly_digest", MONDAY_0730)).period == "2026-W47"
    assert (await scheduler.run_job(app, "lagging_reminders", MONDAY_0800)).period == "2026-W47"
    rows = await outbox_rows(app)
    (reminder,) = texts(rows, "lagging_reminders", ids["canbo"])
    assert "Chưa nộp báo cáo" not in reminder
    assert "Tỷ lệ hồ sơ trực tuyến: 50%, thấp hơn chỉ tiêu 60%." in reminder
    (c2_reminder,) = texts(rows, "lagging_reminders", ids["off_c2"])
    assert "Chưa nộp báo cáo tuần đúng hạn." in c2_reminder
    # A team leader cannot file the report: not asked to.
    assert all("Chưa nộp báo cáo" not in x for x in texts(rows, "lagging_reminders", ids["tl_c1"]))
    digest = next(x for x in texts(rows, "weekly_digest", ids["leader"]) if "Tổng hợp" in x)
    assert "tuần 47/2026" in digest
    # The digest's lagging lines carry exactly the reasons the communes were sent.
    for name, text in (("Xã Một", reminder), ("Xã Hai", c2_reminder)):
        line = next(x for x in digest.splitlines() if x.startswith(f"• {name}:"))
        reasons = [x[2:] for x in text.splitlines() if x.startswith("• ")]
        assert line == f"• {name}: " + " ".join(reasons)
    assert "Không có xã/phường nào chậm" not in digest
    # The commune's own leader: the digest (its teams ranked) names the commune with the same reasons.
    own = next(x for x in texts(rows, "weekly_digest", ids["leader_c1"]) if "Tổng hợp" in x)
    reasons = " ".join(x[2:] for x in reminder.splitlines() if x.startswith("• "))
    assert f"• Xã Một: {reasons}" in own.splitlines()

    # `tocns kpi show --unit C1 --week 2026-W47` (the CLI, in its own process).
    table = kpi_show(db_url, config, "C1", "2026-W47")
    assert figure(table, "report_on_time") == "100.0"
    assert figure(kpi_show(db_url, config, "C2", "2026-W47"), "report_on_time") == "0.0"

    # /kpi on Monday defaults to the week that just ended.
    before = app.intake.clock  # type: ignore[attr-defined]
    app.intake.clock = lambda: MONDAY_0800 + timedelta(hours=10)  # type: ignore[attr-defined]
    try:
        said_kpi = await ChatDriver(app, f"k-{ids['canbo']}", channel="console").send("/kpi")
    finally:
        app.intake.clock = before  # type: ignore[attr-defined]
    assert "tuần 47/2026" in said_kpi.text and "Báo cáo tuần đúng hạn: 100%" in said_kpi.text


async def test_correction_before_the_week_ends_stays_on_time(app: App) -> None:
    ids = await world(app)
    await h.baocao(app, ids["canbo"], FRIDAY_1400, "40 20 10 30 28 2 25 12")
    # Saturday: a correction, confirmed — still on time. Next Tuesday: a correction is late.
    driver = ChatDriver(app, f"k-{ids['canbo']}", channel="console")
    app.intake.clock = lambda: local(21, 10)  # type: ignore[attr-defined]
    await driver.send("/baocao tuan 47 41 20 10 30 28 2 25 12")
    said = await driver.tap("Thay báo cáo cũ")
    assert "đúng hạn" in said.text
    app.intake.clock = lambda: local(24, 10)  # type: ignore[attr-defined]
    await driver.send("/baocao tuan 47 42 20 10 30 28 2 25 12")
    said = await driver.tap("Thay báo cáo cũ")
    assert "nộp muộn" in said.text


async def test_previous_week_convention_drafts_until_the_week_ends(db_url: str, tmp_path: Path) -> None:
    """Previous week due Monday 17:00 (week ends Sunday): a report for the running week is a
    draft; the reminder and plain /baocao on Monday morning name the week that just ended."""
    monday_deadline = {
        "report_convention": "previous_week",
        "week_ends": "sun",
        "report_deadline": "mon 17:00",
    }
    # The Monday digest and reminders at 07:30/08:00 would run before a Monday 17:00 deadline:
    # start-up refuses that schedule, naming the key, and the province moves them to Tuesday.
    with pytest.raises(ConfigError, match=r"schedules\.weekly_digest: runs before the report deadline"):
        build(make_settings(db_url, TOCNS_CONFIG=str(write_config(tmp_path, monday_deadline))))
    tuesday = {"weekly_digest": "30 7 * * tue", "lagging_reminders": "0 8 * * tue"}
    raw_schedules = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["kpi"].get(
        "schedules", {}
    )
    config = write_config(tmp_path, {**monday_deadline, "schedules": {**raw_schedules, **tuesday}})
    app = build(make_settings(db_url, TOCNS_CONFIG=str(config)))
    try:
        ids = await world(app)
        said = await h.baocao(app, ids["canbo"], FRIDAY_1400, "tuan 47 40 20 10 30 28 2 25 12")
        assert "bản nháp" in said and "23/11" in said
        monday = local(23, 9)
        assert (await scheduler.run_job(app, "report_reminder", monday)).period == "2026-W47"
        rows = await outbox_rows(app)
        assert texts(rows, "report_reminder", ids["canbo"])  # a draft is not the report
        app.intake.clock = lambda: monday + timedelta(hours=1)  # type: ignore[attr-defined]
        driver = ChatDriver(app, f"k-{ids['canbo']}", channel="console")
        said_again = await driver.send("/baocao 40 20 10 30 28 2 25 12")
        assert "Tuần 47/2026" in said_again.text  # plain /baocao is week 47, which has the draft
        said_again = await driver.tap("Thay báo cáo cũ")
        assert "đúng hạn" in said_again.text
    finally:
        await app.close()


async def test_escalation_is_one_message_per_leader(app: App) -> None:
    """Three communes without reports three weeks running: the province's leader gets one message
    naming all three, which asks them to follow up — not to file a report."""
    ids = await world(app)
    async with app.sessions() as s, s.begin():
        t = ids["t"]
        ids["off_c3"] = (await h.person(s, "Cán bộ Ba", "officer", t["C3"])).id
    await scheduler.run_job(app, "lagging_reminders", MONDAY_0800)
    rows = await outbox_rows(app)
    (escalation,) = texts(rows, "lagging_reminders", ids["leader"])
    assert "Đơn vị chậm tiến độ từ 3 tuần liên tiếp trở lên (đến tuần 47/2026 (16/11–22/11)): 3" in escalation
    for name in ("Xã Ba", "Xã Hai", "Xã Một"):
        assert f"• {name} (3 tuần): Chưa nộp báo cáo tuần đúng hạn." in escalation
    assert "/baocao" not in escalation and "Anh/chị gõ" not in escalation
    # The officers are each asked, with the week to type.
    (c3,) = texts(rows, "lagging_reminders", ids["off_c3"])
    assert "/baocao tuan 47" in c3


async def test_escalation_too_long_to_list_has_the_excel_it_points_to(app: App) -> None:
    """Thirteen communes lagging: twelve are named, «… và 1 đơn vị khác (xem Excel).» — and the
    message carries the digest's Excel button (it had none), whose table names the thirteenth."""
    ids = await world(app)
    async with app.sessions() as s, s.begin():
        for n in range(10):
            await h.unit(s, f"C{n + 4}", f"Xã Thêm {n + 1:02d}", "commune", ids["t"]["P"])
    await scheduler.run_job(app, "lagging_reminders", MONDAY_0800)
    (row,) = [
        r for r in await outbox_rows(app) if r.kind == "lagging_reminders" and r.person_id == ids["leader"]
    ]
    escalation = Reply.from_payload(row.payload)
    assert "… và 1 đơn vị khác (xem Excel)." in escalation.text
    names = ["Xã Một", "Xã Hai", "Xã Ba", *(f"Xã Thêm {n + 1:02d}" for n in range(10))]
    (unnamed,) = [n for n in names if f"• {n} " not in escalation.text]
    assert [[b.label for b in r] for r in escalation.buttons] == [["📥 Excel"]]
    leader = ChatDriver(app, f"k-{ids['leader']}", channel="console")
    said = await leader.press(escalation.buttons[0][0].payload or "")
    sheet = said.replies[0].attachment
    assert sheet is not None and sheet.filename == "kpi-P-2026-W47.xlsx"
    cells = {c.value for r in openpyxl.load_workbook(io.BytesIO(sheet.data)).active.iter_rows() for c in r}
    assert set(names) <= cells and unnamed


@pytest.mark.skipif(
    shutil.which("faketime") is None, reason="libfaketime not installed (apt-get install faketime)"
)
async def test_the_cli_with_a_faked_clock(cycle: tuple[App, Path], db_url: str) -> None:
    """`tocns jobs run` and `tocns kpi show` (no --week) at Friday 15:00 and Monday 08:00."""
    app, config = cycle
    ids = await world(app)
    await h.baocao(app, ids["canbo"], FRIDAY_1400, "40 20 10 30 28 2 25 12")
    out = tocns_at("2026-11-20 15:00:00", db_url, "jobs", "run", "report_reminder", config=config)
    assert "kỳ 2026-W47, đã xếp 1 tin nhắn" in out  # only the commune that has not reported
    out = tocns_at("2026-11-23 08:00:00", db_url, "jobs", "run", "lagging_reminders", config=config)
    assert "kỳ 2026-W47" in out
    rows = await outbox_rows(app)
    assert [r.person_id for r in rows if r.kind == "report_reminder"] == [ids["off_c2"]]
    assert all("Chưa nộp báo cáo" not in x for x in texts(rows, "lagging_reminders", ids["canbo"]))
    table = tocns_at("2026-11-23 08:05:00", db_url, "kpi", "show", "--unit", "C1", config=config)
    assert "tuần 47" in table or "2026-W47" in table
    assert figure(table, "report_on_time") == "100.0"


@pytest.mark.skipif(
    shutil.which("faketime") is None, reason="libfaketime not installed (apt-get install faketime)"
)
async def test_the_digest_is_not_sent_for_a_week_still_under_way(
    cycle: tuple[App, Path], db_url: str
) -> None:
    """`jobs run weekly_digest --week <this week>` on a Tuesday sent leaders half-empty figures
    («3,2 % thành viên hoạt động ▼75»). A week not over needs --partial; a future week is refused."""
    app, config = cycle
    await world(app)
    env = {**os.environ, "TOCNS_DATABASE_URL": db_url, "TOCNS_CONFIG": str(config), "TZ": "Asia/Ho_Chi_Minh"}

    def at_tuesday(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["faketime", "2026-11-24 09:00:00", sys.executable, "-m", "bot.cli", *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False
        )

    for job in ("weekly_digest", "lagging_reminders"):
        out = at_tuesday("jobs", "run", job, "--week", "2026-W48")
        # Monday-Sunday or Friday-Thursday weeks, by the convention under test.
        assert out.returncode == 2, out.stderr
        assert re.search(r"tuần 2026-W48 chưa kết thúc \(đến hết ngày (29|26)/11/2026\)", out.stderr)
    assert not [r for r in await outbox_rows(app) if r.kind in ("weekly_digest", "lagging_reminders")]
    out = at_tuesday("jobs", "run", "weekly_digest", "--week", "2026-W50")
    assert out.returncode == 2 and "tuần 2026-W50 chưa bắt đầu" in out.stderr
    out = at_tuesday("jobs", "run", "weekly_digest", "--week", "2026-W47")
    assert out.returncode == 0 and "kỳ 2026-W47" in out.stdout, out.stderr
    out = at_tuesday("jobs", "run", "weekly_digest", "--week", "2026-W48", "--partial")
    assert out.returncode == 0 and "kỳ 2026-W48" in out.stdout, out.stderr
    # That was a preview: labelled, and not the week's send — once the week is over, the official
    # digest still goes out (a `--partial` run used to use it up: «đã xếp 0 tin nhắn» on Monday).
    previews = [
        r for r in await outbox_rows(app) if r.kind == "weekly_digest" and "2026-W48" in r.idempotency_key
    ]
    assert previews and all(r.idempotency_key.startswith("preview:") for r in previews)
    assert all(Reply.from_payload(r.payload).text.startswith("⚠️ Số liệu tạm tính") for r in previews)

    def at_next_tuesday(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["faketime", "2026-12-01 09:00:00", sys.executable, "-m", "bot.cli", *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False
        )

    after = at_next_tuesday("jobs", "run", "weekly_digest", "--week", "2026-W48")
    assert after.returncode == 0 and "đã xếp 0 tin nhắn" not in after.stdout, after.stdout
    official = [
        r
        for r in await outbox_rows(app)
        if r.kind == "weekly_digest"
        and "2026-W48" in r.idempotency_key
        and not r.idempotency_key.startswith("preview:")
    ]
    assert official and not any("tạm tính" in Reply.from_payload(r.payload).text for r in official)
