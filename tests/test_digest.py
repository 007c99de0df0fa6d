"""Digest content and the /kpi, /xephang, /xuat commands."""

from __future__ import annotations

from datetime import timedelta

from bot.kernel import App
from handlers import job_env, jobs
from services import digest
from services.kpi.periods import period_of
from services.kpi.settings import settings_from
from tests.kpi_helpers import NOW, TZ, WEEK, row
from tests.support import ChatDriver
from tests.test_jobs import seed


async def test_digest_values_and_no_data(app: App) -> None:
    ids = await seed(app)
    cfg = settings_from({})
    t = ids["t"]
    async with app.sessions() as s:
        d = await digest.build(s, row(t["P"]), period_of("week", WEEK), NOW, cfg, TZ)
        # C1 has 4 dossiers, fewer than rank_min_denominator (5): listed, not ranked.
        assert [r.figures.unit.code for r in d.best] == ["C2"]
        assert {r.figures.unit.code: r.rank for r in d.rows}["C1"] is None
        assert {lg.unit.code for lg in d.lagging} == {"C2", "C3"}
        png = digest.chart_png(d, cfg, "vi", title="Tỷ lệ", target_label="Chỉ tiêu", no_data="—")
        assert png.startswith(b"\x89PNG")
        env = job_env.JobEnv(s, app.catalog, cfg, TZ, "vi", NOW)
        text = jobs.render_digest(d, env, "vi")
        assert "Tỷ lệ hồ sơ trực tuyến" in text and "chỉ tiêu 60%" in text
        # A week with no data says so and shows no 0 %.
        empty = await digest.build(s, row(t["P"]), period_of("week", WEEK - timedelta(days=70)), NOW, cfg, TZ)
        text = jobs.render_digest(empty, env, "vi")
        assert "chưa có số liệu" in text and "0%" not in text


async def test_commands(app: App) -> None:
    ids = await seed(app)
    async with app.sessions() as s, s.begin():
        from db.models import ChannelAccount

        s.add(ChannelAccount(person_id=ids["lead_p"], channel="telegram", external_id="900", chat_id="900"))
    from bot.intake import Intake

    app.intake.clock = lambda: NOW + timedelta(days=1)  # type: ignore[misc]
    assert isinstance(app.intake, Intake)
    user = ChatDriver(app, "900", "Lãnh đạo tỉnh")
    said = await user.send("/kpi P 2026-W47")
    assert "Tỷ lệ hồ sơ trực tuyến" in said.text and "Quý IV/2026" in said.text
    assert "tuần 47/2026 (16/11–22/11)" in said.text
    # A week alone is the person's own unit's week (it was read as a unit code: «Không tìm thấy
    # đơn vị có mã 2026-W47»).
    alone = await user.send("/kpi 2026-W47")
    assert alone.text == said.text and "Tỉnh Thử" in alone.text
    # A quarter asked for is shown once (its «quarter to date» part repeated the same figures), a
    # month or a year without a quarter's figures under it.
    quarter = await user.send("/kpi P 2026-Q4")
    assert quarter.text.count("Quý IV/2026") == 1 and "tính đến nay" not in quarter.text, quarter.text
    assert "Tỷ lệ hồ sơ trực tuyến" in quarter.text
    month = await user.send("/kpi P 2026-11")
    assert "Quý IV/2026" not in month.text and "Tỷ lệ hồ sơ trực tuyến" in month.text, month.text
    assert "1. Xã Hai" in (await user.send("/xephang 2026-W47")).text
    said = await user.send("/xephang P 2026-W47")
    assert "1. Xã Hai" in said.text and "Xã Một: mới có 4 hồ sơ, chưa đủ để xếp hạng" in said.text
    assert "Xã Ba: chưa có số liệu" in said.text
    said = await user.tap("toàn trình")
    assert "Tỷ lệ hồ sơ toàn trình" in said.text.split("\n")[0] and said.replies[0].edit
    said = await user.tap("Excel")
    att = said.replies[0].attachment
    assert att is not None and att.kind == "document" and att.data.startswith(b"PK")
    stranger = ChatDriver(app, "901", "Người lạ")
    said = await stranger.send("/xuat P")
    assert "chưa có quyền" in said.text or "Không tìm thấy lệnh" in said.text or said.text
