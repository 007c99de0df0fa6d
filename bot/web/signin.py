"""Signing in and out, the language switch and the home redirect."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.web.app import APP_KEY, CLOCK_KEY, COOKIE, WEB_PREFIX, page_of, safe_next, set_cookie
from bot.web.common import url
from services import kpi, people, web_auth
from services.access import Action


async def login(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    now = request.app[CLOCK_KEY]()
    token = request.query.get("t", "")
    async with app.sessions() as db:
        signed = await web_auth.redeem(db, token, now, client=request.headers.get("User-Agent", ""))
        await db.commit()
    lang = app.settings.app.locale
    if signed is None:
        from bot.web.app import error_page

        return error_page(request, 403, "web.link_invalid", lang)
    response = web.HTTPFound(safe_next(request.query.get("next")))
    set_cookie(response, request, signed.token, max_age=app.settings.web.session_idle_minutes * 60 * 24)
    response.headers["Referrer-Policy"] = "no-referrer"
    raise response


async def signin_help(request: web.Request) -> web.StreamResponse:
    app = request.app[APP_KEY]
    lang = app.settings.app.locale
    t = lambda key, **p: app.catalog.text(lang, key, **p)  # noqa: E731
    return aiohttp_jinja2.render_template("signin.html", request, {"t": t, "lang": lang, "page": None})


async def logout(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    await web_auth.sign_out(page.db, page.identity, page.now)
    response = web.HTTPFound(f"{WEB_PREFIX}/signin?bye=1")
    response.del_cookie(COOKIE, path=WEB_PREFIX)
    raise response


async def language(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    form = await request.post()
    lang = str(form.get("lang", "vi"))
    await people.set_locale(page.db, page.actor.person_id, lang)
    raise web.HTTPFound(safe_next(str(form.get("next", ""))))


async def home(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await kpi.resolve_unit(page.db, page.actor, None, Action.VIEW_KPI)
    raise web.HTTPFound(url(f"/u/{unit.code}"))
