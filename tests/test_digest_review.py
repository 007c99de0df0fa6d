"""The provincial leader's review of the weekly digest: each commune's bar against its own target,
ties at the cut of the best / weakest lists, Vietnamese numbers on the web charts, Excel formats.
Figures come from dossiers entered as the import does (tests/kpi_helpers) and targets as an
officer sets them; the digest, chart and Excel are built by the product."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest

from bot.kernel import App
from bot.web import charts, export
from db.models import Unit
from db.repositories import kpi as krepo
from handlers import job_env, jobs
from services import chart, digest, kpi
from services.kpi.periods import period_of
from services.kpi.settings import settings_from
from tests import kpi_helpers as h
from tests.kpi_helpers import NOW, TZ, WEEK, at, row

Q4 = "2026-Q4"


async def _commune(s: Any, p: Unit, code: str, name: str, online: int, total: int) -> Unit:
    """A commune with `total` dossiers received in W47, `online` of them online."""
    c = await h.unit(s, code, name, "commune", p)
    for i in range(total):
        await h.dossier(s, c, "full_online" if i < online else "counter", at(WEEK + timedelta(days=1)))
    return c


def _captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The arguments digest.chart_png hands to the chart (the bars it will colour)."""
    seen: dict[str, Any] = {}
    real = chart.bar_chart

    def spy(labels: Any, values: Any, **kw: Any) -> bytes:
        seen.update(kw, labels=list(labels), values=list(values))
        return real(labels, values, **kw)

    monkeypatch.setattr(chart, "bar_chart", spy)
    return seen


async def test_each_commune_is_coloured_against_its_own_target(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = settings_from({})
    async with app.sessions() as s, s.begin():
        p = await h.unit(s, "P", "Tỉnh Thử", "province")
        a = await _commune(s, p, "A", "Phường An Bình", 13, 21)  # 61,9 %
        b = await _commune(s, p, "B", "Phường Cái Khế", 7, 11)  # 63,6 %
        c = await _commune(s, p, "C", "Xã Mỹ Khánh", 7, 10)  # 70 %
        await krepo.upsert_target(s, p.id, "online_rate", Q4, 60.0, None)
        for u in (a, b, c):
            await krepo.upsert_target(s, u.id, "online_rate", Q4, 65.0, None)
    seen = _captured(monkeypatch)
    async with app.sessions() as s:
        d = await digest.build(s, row(p), period_of("week", WEEK), NOW, cfg, TZ, indicator="online_rate")
        assert d.total.figures["online_rate"].target == 60.0
        png = digest.chart_png(d, cfg, "vi", title="t", target_label="Chỉ tiêu", no_data="—")
    assert png.startswith(b"\x89PNG")
    by_name = dict(zip(seen["labels"], zip(seen["values"], seen["targets"], strict=True), strict=True))
    assert by_name["Phường An Bình"][1] == by_name["Phường Cái Khế"][1] == 65.0
    colours = {n: chart.bar_colour(v, t) for n, (v, t) in by_name.items()}
    # 61,9 % and 63,6 % are above the province's 60 % but below their own 65 %: red, not green.
    assert colours == {"Phường An Bình": chart.BELOW, "Phường Cái Khế": chart.BELOW, "Xã Mỹ Khánh": chart.MET}
    # They all share 65 %: that is the one dashed line, not the province's 60 %.
    assert chart.shared_target(seen["targets"]) == 65.0

    # One commune without its own target inherits the province's 60 %: no single line any more,
    # the legend says each unit is compared with its own target.
    async with app.sessions() as s, s.begin():
        d2 = await _commune(s, p, "D", "Xã Nhơn Ái", 6, 10)  # 60 %, inherits 60 %
    async with app.sessions() as s:
        d = await digest.build(s, row(p), period_of("week", WEEK), NOW, cfg, TZ, indicator="online_rate")
        png = digest.chart_png(
            d, cfg, "vi", title="t", target_label="Chỉ tiêu", no_data="—", each_target_label="Màu: so với…"
        )
    assert png.startswith(b"\x89PNG") and d2 is not None
    assert chart.shared_target(seen["targets"]) is None
    assert seen["each_target_label"] == "Màu: so với…"
    by_name = dict(zip(seen["labels"], zip(seen["values"], seen["targets"], strict=True), strict=True))
    assert chart.bar_colour(*by_name["Xã Nhơn Ái"]) == chart.MET


def test_colour_decision() -> None:
    assert chart.bar_colour(61.9, 65.0) == chart.BELOW
    assert chart.bar_colour(65.0, 65.0) == chart.MET
    assert chart.bar_colour(12.0, None) == chart.NO_TARGET  # a team without a target: neutral
    assert chart.bar_colour(None, 65.0) == chart.NO_DATA
    assert chart.bar_colour(3.0, 5.0, higher_is_better=False) == chart.MET
    assert chart.shared_target([65.0, 65.0]) == 65.0
    assert chart.shared_target([65.0, 60.0]) is None
    assert chart.shared_target([65.0, None]) is None
    assert chart.shared_target([None, None]) is None


def test_web_bars_use_each_units_target_and_vietnamese_numbers() -> None:
    svg = charts.bars(["A", "B"], [61.9, 70.0], targets=[65.0, 65.0])
    assert "61,9%" in svg and "61.9" not in svg.replace('width="61.9', "")
    assert svg.count("<line") == 1  # one shared target: drawn
    assert f'fill="{chart.BELOW}"' in svg and f'fill="{chart.MET}"' in svg
    mixed = charts.bars(["A", "B"], [61.9, 70.0], targets=[65.0, 60.0])
    assert "<line" not in mixed  # no single line for different targets
    teams = charts.bars(["T"], [1151.0], targets=[None], percent=False)
    assert f'fill="{chart.NO_TARGET}"' in teams and "1.151" in teams
    # Not colour alone: each value carries the sign the legend explains (none without a target).
    assert "61,9% ✗" in svg and "70% ✓" in svg and "✓" not in teams and "✗" not in teams
    assert "32,5%" in charts.lines(["a", "b"], [("X", [53.3, 130.0])])  # axis ticks


async def _ranked_province(s: Any, tied: bool) -> Unit:
    p = await h.unit(s, "P", "Tỉnh Thử", "province")
    values = [(9, 10), (8, 10), (7, 10), (6, 10), (5, 10)]
    if tied:
        values += [(0, 10)] * 4
    else:
        values += [(3, 10), (2, 10), (1, 10), (0, 10)]
    names = [
        "Xã Một",
        "Xã Hai",
        "Xã Ba",
        "Xã Bốn",
        "Xã Năm",
        "Phường Phong Dinh",
        "Xã Sáu",
        "Xã Bảy",
        "Xã Tám",
    ]
    for i, (online, total) in enumerate(values):
        await _commune(s, p, f"K{i}", names[i], online, total)
    return p


@pytest.mark.parametrize("tied", [True, False])
async def test_weakest_lists_every_unit_tied_at_the_cut(app: App, tied: bool) -> None:
    cfg = settings_from({})
    async with app.sessions() as s, s.begin():
        p = await _ranked_province(s, tied)
    async with app.sessions() as s:
        d = await digest.build(s, row(p), period_of("week", WEEK), NOW, cfg, TZ, indicator="online_rate")
        env = job_env.JobEnv(s, app.catalog, cfg, TZ, "vi", NOW)
        text = jobs.render_digest(d, env, "vi")
    weakest = [(r.rank, r.figures.unit.name) for r in d.weakest]
    assert [r.figures.unit.name for r in d.best] == ["Xã Một", "Xã Hai", "Xã Ba"]
    if tied:
        # Four communes share rank 6 with 0 %: all four are listed (none hidden by the cut).
        assert sorted(weakest) == sorted((6, n) for n in ("Phường Phong Dinh", "Xã Sáu", "Xã Bảy", "Xã Tám"))
        assert "6. Phường Phong Dinh: 0%" in text
    else:
        assert weakest == [(9, "Xã Tám"), (8, "Xã Bảy"), (7, "Xã Sáu")]
        assert "Phường Phong Dinh" not in text.split("Thấp nhất")[1].split("\n\n")[0]


async def test_best_lists_every_unit_tied_at_the_cut(app: App) -> None:
    cfg = settings_from({})
    async with app.sessions() as s, s.begin():
        p = await h.unit(s, "P", "Tỉnh Thử", "province")
        for i, online in enumerate((9, 8, 7, 7, 5, 4, 3, 2)):
            await _commune(s, p, f"K{i}", f"Xã {i}", online, 10)
    async with app.sessions() as s:
        d = await digest.build(s, row(p), period_of("week", WEEK), NOW, cfg, TZ, indicator="online_rate")
    assert [(r.rank, r.figures.unit.name) for r in d.best] == [
        (1, "Xã 0"),
        (2, "Xã 1"),
        (3, "Xã 2"),
        (3, "Xã 3"),
    ]
    assert [r.figures.unit.name for r in d.weakest] == ["Xã 7", "Xã 6", "Xã 5"]


async def test_excel_rates_as_percent_counts_whole(app: App) -> None:
    cfg = settings_from({})
    async with app.sessions() as s, s.begin():
        p = await h.unit(s, "P", "Tỉnh Thử", "province")
        await _commune(s, p, "A", "Phường An Bình", 13, 21)
        await krepo.upsert_target(s, p.id, "citizens_helped", Q4, 15000.0, None)
    async with app.sessions() as s:
        total, table = await kpi.child_table_with_total(
            s, None, row(p), period_of("week", WEEK), NOW, cfg, TZ
        )
    assert total.figures["citizens_helped"].target % 1  # a week's share of the quarter: fractional
    data = digest.xlsx(
        "t",
        "Đơn vị",
        [total, *table],
        cfg,
        "vi",
        source_name=str,
        target_header="Chỉ tiêu",
        source_header="Nguồn",
    )
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    header = [c.value for c in ws[2]]
    rate = header.index("Tỷ lệ hồ sơ trực tuyến") + 1
    helped = header.index(cfg.indicator("citizens_helped").name_vi) + 1
    commune = next(r for r in ws.iter_rows(min_row=3) if r[1].value == "A")
    assert commune[rate - 1].value == 61.9 and commune[rate - 1].number_format == '0.0"%"'
    province = next(r for r in ws.iter_rows(min_row=3) if r[1].value == "P")
    target = province[helped]  # the column after the value
    assert isinstance(target.value, int) and target.number_format == "#,##0"
    web = openpyxl.load_workbook(
        io.BytesIO(export.xlsx("t", ["a", "b"], [["x", 37.98]], formats=[None, '0.0"%"']))
    )
    assert web.sheetnames == ["Bảng"]
    assert web.active is not None and web.active.cell(row=3, column=2).number_format == '0.0"%"'


async def test_units_below_page_explains_the_bar_colours(seeded_app: App) -> None:
    """The web bar charts colour each unit against its own target: the page says so in words, in
    the person's language, next to each colour (over HTTP, the province leader)."""
    from tests.support import demo_driver
    from tests.test_web_auth import Clock, client, server
    from tests.web_support import link_in

    tinh = demo_driver(seeded_app, "tinh")
    async with server(seeded_app, Clock()) as base, client() as http:
        async with http.get(link_in((await tinh.send("/web")).text)) as r:
            assert r.status == 200
        async with http.get(f"{base}/web/u/46/children") as r:
            vi = await r.text()
        await tinh.send("/ngonngu en")
        async with http.get(f"{base}/web/u/46/children") as r:
            en = await r.text()
    legend = vi.split('id="bar-legend"')[1].split("</p>")[0]
    assert "Màu cột cho biết đơn vị đã đạt chỉ tiêu của chính mình chưa" in legend
    for colour, words in ((chart.MET, "✓ xanh lá — đạt chỉ tiêu"), (chart.BELOW, "✗ đỏ — chưa đạt chỉ tiêu")):
        assert f'style="background:{colour}" aria-hidden="true"></span>{words}' in legend
    assert "xám xanh — chưa có chỉ tiêu" in legend
    assert "% ✓</text>" in vi and 'aria-label="Tỷ lệ hồ sơ trực tuyến"' in vi
    assert "met its own target" in en.split('id="bar-legend"')[1].split("</p>")[0]
