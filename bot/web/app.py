"""Assembly of the dashboard sub-application: templates, static files, the guard middleware
(session cookie, CSRF, scope refusals audit-logged) and the routes."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.kernel import App
from services import web_auth
from services.access import Actor
from services.errors import DomainError, NotFound, PermissionDenied
from services.web_auth import WebIdentity

log = logging.getLogger("tocns.web")
HERE = Path(__file__).resolve().parent
WEB_PREFIX = "/web"
COOKIE = "tocns_web"
APP_KEY = web.AppKey("tocns_app", App)
Clock = Callable[[], datetime]
CLOCK_KEY: web.AppKey[Clock] = web.AppKey("tocns_clock")
# Pages anyone may open (the sign-in itself, its help page, the static files).
OPEN_PATHS = (f"{WEB_PREFIX}/login", f"{WEB_PREFIX}/signin", f"{WEB_PREFIX}/static/")
# aiohttp ≥ 3.13 wants typed request keys (older versions take a plain string).
PAGE_KEY: Any = getattr(web, "RequestKey", lambda name, _t: name)("tocns_page", object)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Page:
    """One request's context: the database session, the signed-in person, language, clock."""

    app: App
    db: AsyncSession
    identity: WebIdentity
    lang: str
    now: datetime
    request: web.Request
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return self.identity.actor

    def t(self, key: str, **params: Any) -> str:
        return self.app.catalog.text(self.lang, key, **params)


class UnitOutOfReach(Exception):
    """A unit code from the address or a form that the person may not use: unknown, or outside
    their scope. Both answer the same 404 page, so a signed-in person cannot probe which codes
    exist; only the audit log (`reason`: `unknown_unit` or `scope`) tells them apart."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(code)
        self.code = code
        self.reason = reason


def page_of(request: web.Request) -> Page:
    page = request.get(PAGE_KEY)
    assert isinstance(page, Page)
    return page


def safe_next(value: str | None) -> str:
    """Only our own pages: no other host, no scheme, no protocol-relative URL."""
    if value and value.startswith(WEB_PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return WEB_PREFIX + "/"


def is_https(request: web.Request) -> bool:
    app = request.app[APP_KEY]
    return (
        request.secure
        or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
        or app.settings.web.public_url.startswith("https://")
    )


def set_cookie(response: web.StreamResponse, request: web.Request, value: str, *, max_age: int) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path=WEB_PREFIX,
        httponly=True,
        samesite="Lax",
        secure=is_https(request),
    )


def error_page(request: web.Request, status: int, key: str, lang: str, **params: Any) -> web.Response:
    app = request.app[APP_KEY]
    text = app.catalog.text(lang, key, **params)
    page = request.get(PAGE_KEY)
    context = {
        "status": status,
        "message": text,
        "lang": lang,
        "t": _t(app, lang),
        "page": page,
        "person": page.actor.display_name if isinstance(page, Page) else "",
        "csrf": page.identity.csrf if isinstance(page, Page) else "",
        "unit": None,
        "tab": "",
        "can_upload": False,
        "url": lambda path, **_q: WEB_PREFIX + path,
    }
    return aiohttp_jinja2.render_template("error.html", request, context, status=status)


def _t(app: App, lang: str) -> Callable[..., str]:
    def t(key: str, **params: Any) -> str:
        return app.catalog.text(lang, key, **params)

    return t


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(OPEN_PATHS):
        return await handler(request)
    app = request.app[APP_KEY]
    now = request.app[CLOCK_KEY]()
    default_lang = app.settings.app.locale
    idle = timedelta(minutes=app.settings.web.session_idle_minutes)
    async with app.sessions() as db:
        identity = await web_auth.current(db, request.cookies.get(COOKIE, ""), now, idle)
        if identity is None:
            await db.commit()
            if request.method == "GET":
                raise web.HTTPFound(f"{WEB_PREFIX}/signin?next=" + quote(request.path_qs, safe=""))
            return error_page(request, 401, "web.signed_out", default_lang)
        lang = identity.actor.locale or default_lang
        page = Page(app, db, identity, lang, now, request)
        request[PAGE_KEY] = page
        if not web_auth.may_use(identity.actor):
            await web_auth.refused(db, identity.actor, request.path, "role")
            await db.commit()
            return error_page(request, 403, "web.not_for_you", lang)
        if request.method == "POST":
            sent = request.headers.get("X-CSRF-Token", "")
            if not sent:
                form = await request.post()
                sent = str(form.get("csrf", ""))
            if not hmac.compare_digest(sent.encode(), identity.csrf.encode()):
                await web_auth.refused(db, identity.actor, request.path, "csrf")
                await db.commit()
                return error_page(request, 403, "web.bad_csrf", lang)
        try:
            response = await handler(request)
        except web.HTTPNotFound:  # a mistyped address: the dashboard's own page, not aiohttp's English
            await db.commit()
            return error_page(request, 404, "web.page_not_found", lang)
        except web.HTTPException:
            await db.commit()
            raise
        except UnitOutOfReach as exc:
            await db.rollback()
            details = {"code": exc.code[:40]}
            await web_auth.refused(db, identity.actor, request.path_qs, exc.reason, details)
            await db.commit()
            return error_page(request, 404, "web.unit_not_in_scope", lang)
        except PermissionDenied as exc:  # the role, not the unit: units go through UnitOutOfReach
            await db.rollback()
            await web_auth.refused(db, identity.actor, request.path_qs, "role", {"error": exc.key})
            await db.commit()
            return error_page(request, 403, "web.forbidden", lang)
        except NotFound as exc:
            await db.rollback()
            return error_page(request, 404, exc.key, lang, **exc.params)
        except DomainError as exc:
            await db.rollback()
            return error_page(request, 400, exc.key, lang, **exc.params)
        await db.commit()
        return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """No framing (clickjacking), no MIME sniffing, no cached pages with people's figures."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if not request.path.startswith(f"{WEB_PREFIX}/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
