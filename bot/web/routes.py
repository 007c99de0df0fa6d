"""Every page of the dashboard and its path (under /web), and mounting it on the server."""

from __future__ import annotations

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.kernel import App
from bot.web.app import APP_KEY, CLOCK_KEY, HERE, WEB_PREFIX, Clock, guard, security_headers
from bot.web.exports import export_table, exports
from bot.web.forms import targets_page, upload
from bot.web.pages import children, digest_page, overview, trend, work
from bot.web.signin import home, language, login, logout, signin_help
from db.base import utcnow
from handlers.web import WEB_BASE_URL


def add_routes(sub: web.Application) -> None:
    r = sub.router
    r.add_get("/login", login)
    r.add_get("/signin", signin_help)
    r.add_post("/logout", logout)
    r.add_post("/lang", language)
    r.add_get("/", home)
    r.add_get("/upload", upload)
    r.add_post("/upload", upload)
    r.add_get("/u/{code}", overview)
    r.add_get("/u/{code}/children", children)
    r.add_get("/u/{code}/trend", trend)
    r.add_get("/u/{code}/work", work)
    r.add_get("/u/{code}/targets", targets_page)
    r.add_post("/u/{code}/targets", targets_page)
    r.add_get("/u/{code}/exports", exports)
    r.add_get("/u/{code}/digest", digest_page)
    r.add_get("/u/{code}/export/{table}.xlsx", export_table)


def mount(app: App, webapp: web.Application, *, clock: Clock = utcnow) -> web.Application:
    """Add the dashboard under /web to the server's application (and tell /web its address)."""
    sub = web.Application(middlewares=[guard])
    sub[APP_KEY] = app
    sub[CLOCK_KEY] = clock
    env = aiohttp_jinja2.setup(
        sub,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["prefix"] = WEB_PREFIX
    sub.on_response_prepare.append(security_headers)
    add_routes(sub)
    sub.router.add_static("/static", HERE / "static", name="static")
    webapp.add_subapp(WEB_PREFIX, sub)
    app.resources[WEB_BASE_URL] = app.settings.web.base_url
    return sub
