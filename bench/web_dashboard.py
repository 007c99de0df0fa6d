"""The web dashboard at national scale: the province page (and its children and trend pages)
rendered on the server, timed as a browser would see it (HTTP request to the full HTML response,
signed in as the province's leader), on PostgreSQL with the data of bench/kpi_scale.py
(34 provinces, 3,321 communes, ~75,000 teams, 1M dossiers, 1M help sessions; `--quick`: a tenth).

    .venv/bin/python bench/web_dashboard.py [--quick] [--pg URL] [--repeat R] [--no-write]

Goal: the province overview < 500 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import aiohttp
from _common import DEFAULT_PG, ScratchPg, append_section, migrate_url, verdict
from aiohttp import web
from kpi_scale import NOW, Data, load_pg

from bot.assemble import build
from bot.config import load_settings
from bot.kernel import ROOT
from bot.web import link_url, mount
from services import kpi, people, web_auth
from services.access import Role

GOAL_S = 0.5


async def measure(url: str, data: Data, repeat: int) -> dict[str, Any]:
    settings = load_settings(environ={"TOCNS_DATABASE_URL": url, "TOCNS_CONFIG": str(ROOT / "config.yaml")})
    app = build(settings)
    from db.repositories import kpi as repo

    async with app.sessions() as s, s.begin():
        province = await repo.unit_by_id(s, data.communes[0][2])
        assert province is not None
        person = await people.grant_role(
            s, channel="console", external_id="bench-leader", role=Role.LEADER, unit_code=province.code
        )
        actor = await people.load_actor(s, person.id)
        token = await web_auth.issue_link(s, actor, NOW)
    webapp = web.Application()
    mount(app, webapp, clock=lambda: NOW)
    runner = web.AppRunner(webapp, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert site._server is not None
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    week = kpi.period_of("week", kpi.local_day(NOW) - timedelta(days=7)).key
    out: dict[str, Any] = {"province": province.name}
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(link_url(base, token)) as r:
                assert r.status == 200, r.status
            for name, path in (
                ("overview", f"/web/u/{province.code}?period={week}"),
                ("children", f"/web/u/{province.code}/children?period={week}&sort=online_rate"),
                ("trend", f"/web/u/{province.code}/trend?period={week}"),
            ):
                best, size = float("inf"), 0
                for i in range(repeat + 1):  # the first is a warm-up
                    t0 = time.perf_counter()
                    async with http.get(base + path) as r:
                        body = await r.read()
                        assert r.status == 200, (path, r.status)
                    if i:
                        best = min(best, time.perf_counter() - t0)
                    size = len(body)
                out[name] = best
                out[name + "_kb"] = size / 1024
    finally:
        await runner.cleanup()
        await app.close()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the communes, teams and rows")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (a scratch database is made)")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests after one warm-up (best kept)")
    parser.add_argument("--no-write", action="store_true", help="do not append to docs/benchmarks.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    data = Data(0.1 if args.quick else 1.0)
    print(f"generated {data.summary()} in {time.perf_counter() - t0:.0f} s")
    async with ScratchPg(args.pg) as url:
        t1 = time.perf_counter()
        await migrate_url(url)
        await load_pg(url, data)
        print(f"loaded into PostgreSQL in {time.perf_counter() - t1:.0f} s")
        r = await measure(url, data, args.repeat)
    ok = r["overview"] < GOAL_S
    line = (
        f"PostgreSQL | province overview {r['overview'] * 1000:.0f} ms ({r['overview_kb']:.0f} KiB; "
        f"goal < 500 ms: {verdict(ok)}) | children table {r['children'] * 1000:.0f} ms "
        f"({r['children_kb']:.0f} KiB) | 12-week trend {r['trend'] * 1000:.0f} ms ({r['trend_kb']:.0f} KiB)"
    )
    print(line)
    if not args.no_write:
        append_section(
            "Web dashboard: the province page at national scale",
            "`bench/web_dashboard.py`: the province leader's pages rendered on the server (HTTP request to "
            "the complete HTML, best of R after a warm-up), data of `bench/kpi_scale.py`. "
            "Goal: province overview < 500 ms on PostgreSQL.",
            [
                f"Data: {data.summary()}; province: {r['province']}.",
                "",
                "| database | overview ms | goal < 500 | children table ms | 12-week trend ms |",
                "|---|---|---|---|---|",
                f"| PostgreSQL | {r['overview'] * 1000:.0f} | {verdict(ok)} | {r['children'] * 1000:.0f} "
                f"| {r['trend'] * 1000:.0f} |",
            ],
        )


if __name__ == "__main__":
    asyncio.run(main())
