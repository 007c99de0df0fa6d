"""The pages that change data: targets (form and CSV, same checks as /chitieu) and the one-stop upload."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.web.app import Page, page_of
from bot.web.common import base_context, resolve, settings, this_week
from db.repositories.kpi import UnitRow
from handlers.kpi import fmt
from handlers.nhap import MAX_UPLOAD, SHOWN_ERRORS
from services import dashboard, kpi
from services.access import Action
from services.dossiers import import_ as dossier_import
from services.errors import DomainError, InvalidInput, PermissionDenied
from services.kpi import Period, targets


async def targets_context(page: Page, unit: UnitRow, quarter: Period) -> dict[str, Any]:
    cfg = settings(page)
    units = [unit, *await kpi_children(page, unit)]
    current = await targets.effective(page.db, units, quarter, cfg)
    ctx = await base_context(page, unit, quarter, "targets")
    ctx.update(
        {
            "indicators": cfg.indicators,
            "units": units,
            "quarter": quarter.key,
            "year": str(quarter.start.year),
            "current": {
                (u.id, i.id): fmt(i, current[(u.id, i.id)], page.app.catalog, page.lang)
                for u in units
                for i in cfg.indicators
                if (u.id, i.id) in current
            },
            "may_set": page.actor.can(Action.SET_TARGETS, unit.path),
            "message": None,
            "errors": [],
            "form": {},
        }
    )
    return ctx


async def kpi_children(page: Page, unit: UnitRow) -> list[UnitRow]:
    # Targets are set for the open units only.
    table = await kpi.child_table(
        page.db,
        page.actor,
        unit,
        this_week(page),
        page.now,
        settings(page),
        page.app.settings.tz,
        with_closed=False,
    )
    return [uf.unit for uf in table]


async def targets_page(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    unit = await resolve(page, request.match_info["code"])
    quarter = kpi.period_of("quarter", this_week(page).start)
    ctx = await targets_context(page, unit, quarter)
    if request.method == "POST":
        form = await request.post()
        cfg = settings(page)
        if "file" in form:
            upload = form["file"]
            raw = getattr(upload, "file", None)
            data = raw.read() if raw is not None else b""
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = ""
            result = await dashboard.import_targets_csv(page.db, page.actor, text, cfg)
            if result.errors:
                ctx["errors"] = [
                    page.t("web.targets.csv_line", line=line, reason=page.t(key, **params))
                    for line, key, params in result.errors[:SHOWN_ERRORS]
                ]
            else:
                ctx["message"] = page.t("web.targets.imported", rows=result.rows)
        else:
            fields = {k: str(form.get(k, "")).strip() for k in ("unit", "indicator", "period", "value")}
            ctx["form"] = fields
            # A role without targets is refused as such; a unit code it may not set, known or not,
            # gets the one «not in your scope» page (codes cannot be probed through this form).
            page.actor.require(Action.SET_TARGETS)
            await resolve(page, fields["unit"], Action.SET_TARGETS)
            try:
                ind = cfg.indicator(fields["indicator"]) if fields["indicator"] in cfg.ids else None
                value = targets.parse_value(fields["value"], ind)
                target_unit, key = await targets.set_target(
                    page.db,
                    page.actor,
                    cfg,
                    fields["unit"],
                    fields["indicator"],
                    fields["period"],
                    value,
                    fields["value"],
                )
                ind = cfg.indicator(fields["indicator"])
                ctx["message"] = page.t(
                    "kpi.target_set",
                    indicator=ind.name(page.lang),
                    unit=target_unit.name,
                    period=key,
                    value=fmt(ind, value, page.app.catalog, page.lang),
                )
            except InvalidInput as exc:
                ctx["errors"] = [page.t(exc.key, **exc.params)]
        if ctx["message"]:
            fresh = await targets_context(page, unit, quarter)
            fresh["message"] = ctx["message"]
            ctx = fresh
    return aiohttp_jinja2.render_template("targets.html", request, ctx)


def upload_units(page: Page) -> list[tuple[str, str]]:
    return [
        (g.unit_code, g.unit_name or g.unit_code)
        for g in page.actor.grants_for(Action.IMPORT_DOSSIERS)
        if g.unit_code
    ]


async def upload(request: web.Request) -> web.StreamResponse:
    page = page_of(request)
    page.actor.require(Action.IMPORT_DOSSIERS)
    ctx = await base_context(page, None, None, "upload")
    units = upload_units(page)
    ctx.update(
        {
            "units": units,
            "profiles": dossier_import.profile_names(),
            "summary": None,
            "errors": [],
            "notes": [],
            "error": None,
            "max_mb": MAX_UPLOAD // (1024 * 1024),
        }
    )
    if request.method == "POST":
        form = await request.post()
        field = form.get("file")
        code = str(form.get("unit", "")) or (units[0][0] if units else "")
        # Checked before the file is read: an unknown code and another commune's code answer alike.
        code = (await resolve(page, code, Action.IMPORT_DOSSIERS)).code
        profile = str(form.get("profile", "generic")) or "generic"
        if field is None or not hasattr(field, "file"):
            ctx["error"] = page.t("web.upload.no_file")
        else:
            data = field.file.read()
            name = str(getattr(field, "filename", "") or "upload")
            if len(data) > MAX_UPLOAD:
                ctx["error"] = page.t("nhap.errors.too_large", mb=MAX_UPLOAD // (1024 * 1024))
            else:
                try:
                    summary = await dossier_import.import_file(
                        page.db, page.actor, data, name, code, page.now, page.app.settings.tz, profile=profile
                    )
                except DomainError as exc:
                    if isinstance(exc, PermissionDenied):
                        raise
                    await page.db.rollback()
                    ctx["error"] = page.t(exc.key, **exc.params) + " " + page.t("nhap.nothing_imported")
                else:
                    ctx["summary"] = page.t(
                        "nhap.summary",
                        name=name[-60:],
                        unit=summary.unit,
                        rows=summary.rows,
                        new=summary.new,
                        updated=summary.updated,
                        unchanged=summary.unchanged,
                        rejected=summary.rejected,
                    )
                    ctx["notes"] = [page.t(key, **params) for key, params in summary.notes(page.lang)]
                    ctx["errors"] = [
                        page.t("nhap.row_error", row=row, reason=page.t(key, **params))
                        for row, key, params in summary.errors[:SHOWN_ERRORS]
                    ]
                    if summary.rejected > SHOWN_ERRORS:
                        ctx["errors"].append(page.t("nhap.more_errors", n=summary.rejected - SHOWN_ERRORS))
    if request.headers.get("X-Requested-With") == "fetch":
        return aiohttp_jinja2.render_template("upload_result.html", request, ctx)
    return aiohttp_jinja2.render_template("upload.html", request, ctx)
