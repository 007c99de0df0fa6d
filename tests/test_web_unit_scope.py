"""Unit codes cannot be probed through the dashboard: a code from the address or a form that the
person may not use answers the same 404 page whether the unit exists (another commune, the
province above) or not — on every page, the Excel export, the targets form and CSV, the upload.
Over HTTP against the real dashboard (the mount `tocns run` does), people and roles changed
through the chat and the real command line, as they change over time."""

from __future__ import annotations

import re

import aiohttp

from bot.kernel import App
from tests.reliability.test_roles_over_time import tocns
from tests.support import demo_driver
from tests.test_import import make_xlsx, sample_rows
from tests.test_kpi_several_units import grant, revoke
from tests.test_web_auth import Clock, actions, client, server
from tests.web_support import link_in

OWN, OTHER, PROVINCE, GHOST = "19786", "19768", "46", "99999"  # 19768: Phường Phú Xuân, in the demo
OTHER_NAME = "Phường Phú Xuân"
NOT_IN_SCOPE = "Không tìm thấy đơn vị trong phạm vi của anh/chị"
PAGES = (
    "/web/u/{code}",
    "/web/u/{code}/children",
    "/web/u/{code}/trend?indicator=online_rate&kind=quarter",
    "/web/u/{code}/work",
    "/web/u/{code}/targets",
    "/web/u/{code}/exports",
    "/web/u/{code}/digest?period=2026-W47",
    "/web/u/{code}/export/children.xlsx",
    "/web/u/{code}/export/trend.xlsx?indicator=online_rate",
    "/web/u/{code}/export/nope.xlsx",  # an unknown table of an unknown unit: still the unit's 404
)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(app: App, http: aiohttp.ClientSession, who: str) -> None:
    async with http.get(link_in((await demo_driver(app, who).send("/web")).text)) as r:
        assert r.status == 200, r.status


async def answer(http: aiohttp.ClientSession, url: str, code: str, **post: object) -> tuple[int, str]:
    """Status and page, the code typed replaced (the language switch echoes the address)."""
    call = http.post(url, **post) if post else http.get(url)
    async with call as r:
        body = await r.text()
        return r.status, body.replace(code, "<code>")


async def csrf_of(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as r:
        found = CSRF.search(await r.text())
    assert found
    return found.group(1)


async def assert_alike(http: aiohttp.ClientSession, base: str, path: str, codes: tuple[str, ...]) -> str:
    """Every code answers the same status and the same page; that page."""
    answers = {code: await answer(http, base + path.format(code=code), code) for code in codes}
    return same(answers, path)


def same(answers: dict[str, tuple[int, str]], what: str) -> str:
    statuses = {code: status for code, (status, _) in answers.items()}
    assert len(set(answers.values())) == 1, (what, statuses)
    status, page = next(iter(answers.values()))
    return f"{status} {page}"


async def test_unknown_and_other_units_answer_alike_on_every_page(seeded_app: App) -> None:
    async with server(seeded_app, Clock()) as base, client() as http:
        await sign_in(seeded_app, http, "lanhdao")
        for path in PAGES:
            if "nope" not in path:
                async with http.get(base + path.format(code=OWN)) as r:
                    assert r.status == 200, (path, r.status)
            page = await assert_alike(http, base, path, (OTHER, PROVINCE, GHOST))
            assert page.startswith("404 ") and NOT_IN_SCOPE in page, (path, page[:300])
            assert OTHER_NAME not in page and "Thành phố Huế" not in page
        # The audit log (for the operator, not the page) still tells a probe from a typo.
        refused = [d for a, d in await actions(seeded_app) if a == "web.refused"]
        assert len(refused) == 3 * len(PAGES)
        assert {(d["code"], d["reason"]) for d in refused} == {
            (OTHER, "scope"),
            (PROVINCE, "scope"),
            (GHOST, "unknown_unit"),
        }


async def test_forms_do_not_tell_unknown_units_from_other_units(seeded_app: App) -> None:
    quarter = "2026-Q4"
    async with server(seeded_app, Clock()) as base, client() as http:
        await sign_in(seeded_app, http, "lanhdao")
        targets = f"{base}/web/u/{OWN}/targets"
        token = await csrf_of(http, targets)

        # The targets form, its unit select tampered with.
        def form(unit: str) -> dict[str, object]:
            fields = {
                "csrf": token,
                "unit": unit,
                "indicator": "online_rate",
                "period": quarter,
                "value": "70",
            }
            return {"data": fields}

        seen = {code: await answer(http, targets, code, **form(code)) for code in (OTHER, PROVINCE, GHOST)}
        page = same(seen, "targets form")
        assert page.startswith("404 ") and NOT_IN_SCOPE in page and OTHER_NAME not in page
        status, page = await answer(http, targets, OWN, **form(OWN))
        assert status == 200 and "70%" in page  # the commune's own target is set

        # The targets CSV: one sentence for both, naming the code as the file wrote it.
        data = aiohttp.FormData()
        data.add_field("csrf", token)
        csv = "unit_code,indicator,period,target\n" + "".join(
            f"{unit},online_rate,{quarter},50\n" for unit in (OTHER, GHOST)
        )
        data.add_field("file", csv.encode(), filename="t.csv", content_type="text/csv")
        async with http.post(targets, data=data) as r:
            page = await r.text()
        assert r.status == 200
        assert f"Dòng 2: Không tìm thấy đơn vị «{OTHER}» trong phạm vi của anh/chị." in page
        assert f"Dòng 3: Không tìm thấy đơn vị «{GHOST}» trong phạm vi của anh/chị." in page
        assert OTHER_NAME not in page

    # The officer's upload of the one-stop export, for a commune that is not theirs.
    async with server(seeded_app, Clock()) as base, client() as http:
        await sign_in(seeded_app, http, "canbo")
        token = await csrf_of(http, f"{base}/web/upload")

        def upload(unit: str) -> dict[str, object]:
            data = aiohttp.FormData()
            data.add_field("csrf", token)
            data.add_field("unit", unit)
            data.add_field("profile", "generic")
            data.add_field("file", make_xlsx(sample_rows()), filename="hoso.xlsx")
            return {"data": data}

        seen = {
            code: await answer(http, f"{base}/web/upload", code, **upload(code)) for code in (OTHER, GHOST)
        }
        page = same(seen, "upload")
        assert page.startswith("404 ") and NOT_IN_SCOPE in page and OTHER_NAME not in page
        status, page = await answer(http, f"{base}/web/upload", OWN, **upload(OWN))
        assert status == 200 and "hồ sơ mới" in page, page[:500]


async def test_a_leader_moved_to_another_commune_sees_the_new_one_not_the_old(seeded_app: App) -> None:
    """The commune leader of Thuận Hóa loses the role (`tocns users revoke`), then joins Phú Xuân
    as its leader with an invite code; the same browser session follows each change at once."""
    async with server(seeded_app, Clock()) as base, client() as http:
        await sign_in(seeded_app, http, "lanhdao")
        revoked = await tocns(
            seeded_app, "users", "revoke", "--channel", "console", "--user-id", "demo-lanhdao",
            "--role", "leader", "--unit", OWN,
        )  # fmt: skip
        assert revoked.returncode == 0, revoked.stderr
        # No staff role left: every address, known unit or not, gets the same refusal.
        page = await assert_alike(http, base, "/web/u/{code}", (OWN, OTHER, GHOST))
        assert page.startswith("403 ") and "chưa có vai trò" in page

        made = await tocns(
            seeded_app, "invites", "create", "--unit", OTHER, "--role", "leader", "--uses", "1"
        )
        assert made.returncode == 0, made.stderr
        code = re.search(r"\b([A-HJ-NP-Z2-9]{8})\b", made.stdout.split("Mã mời:")[1])
        assert code
        lanhdao = demo_driver(seeded_app, "lanhdao")
        await lanhdao.send(f"/thamgia {code.group(1)}")
        joined = await lanhdao.tap("Đúng")
        assert OTHER_NAME in joined.text, joined.text

        async with http.get(f"{base}/web/", allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"] == f"/web/u/{OTHER}"
        async with http.get(f"{base}/web/u/{OTHER}") as r:
            assert r.status == 200 and OTHER_NAME in await r.text()
        # The old commune is now like any unit outside the scope: the same page as a made-up code.
        for path in ("/web/u/{code}", "/web/u/{code}/export/overview.xlsx", "/web/u/{code}/targets"):
            page = await assert_alike(http, base, path, (OWN, GHOST))
            assert page.startswith("404 ") and NOT_IN_SCOPE in page and "Thuận Hóa" not in page


async def test_an_officer_of_two_communes_can_reach_both_from_every_page(seeded_app: App) -> None:
    """The home page opens one commune; the other is one click away on each page (a switcher of
    the person's own units), and goes away with the role (`tocns users revoke`)."""
    async with server(seeded_app, Clock()) as base, client() as http:
        await grant(seeded_app, "canbo", "officer", OTHER)
        await sign_in(seeded_app, http, "canbo")
        async with http.get(f"{base}/web/", allow_redirects=False) as r:
            assert r.status == 302 and r.headers["Location"] == f"/web/u/{OWN}"
        async with http.get(f"{base}/web/u/{OWN}/children") as r:
            page = await r.text()
        switcher = page.split('id="own-units"')[1].split("</nav>")[0]
        assert f'href="/web/u/{OTHER}' in switcher and f"{OTHER_NAME} ({OTHER})" in switcher
        async with http.get(f"{base}/web/u/{OTHER}") as r:
            assert r.status == 200 and 'id="own-units"' in await r.text()

        await revoke(seeded_app, "canbo", "officer", OTHER)
        async with http.get(f"{base}/web/u/{OWN}") as r:
            assert r.status == 200 and 'id="own-units"' not in await r.text()
        async with http.get(f"{base}/web/u/{OTHER}") as r:
            assert r.status == 404
