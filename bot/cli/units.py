"""`tocns units …` (import and list the unit tree) and `tocns invites …` (invite codes)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import Progress
from rich.table import Column, Table

from bot.assemble import build, prepare_database
from bot.cli._messages import current_locale, say
from bot.cli._runtime import console, err, fail_line, ok, role_label, wrong_unit
from bot.config import load_settings
from bot.kernel import App
from db.base import utcnow
from handlers.i18n import Catalog
from services import invites, unit_import, units
from services.access import Role
from services.errors import DomainError

units_cli = typer.Typer(help="The unit tree: provinces, communes, teams.", no_args_is_help=True)
invites_cli = typer.Typer(help="Invite codes.", no_args_is_help=True)
T = TypeVar("T")
BOT_USERNAME_ENV = "TOCNS_TELEGRAM_BOT_USERNAME"
# `invites list`: why an unrevoked, unexpired code would still be refused.
REFUSED = {
    "onboarding.errors.unit_closed": "invites.unit_closed",
    "onboarding.errors.inviter_lost_role": "invites.inviter_lost_role",
}


def _run(fn: Callable[[App], Awaitable[T]]) -> T:
    async def main() -> T:
        app = build(load_settings())
        try:
            await prepare_database(app)
            return await fn(app)
        finally:
            await app.close()

    return asyncio.run(main())


def _fail(message: str) -> typer.Exit:
    fail_line(message)
    return typer.Exit(2)


def found_roles(found: list[invites.OpenInvite]) -> list[Role]:
    """The roles in the list (every invitable one when it is empty: the heading's width)."""
    return [line.invite.role for line in found] or list(invites.INVITABLE_ROLES)


def _text(key: str, **params: object) -> str:
    return Catalog.load().text(current_locale(), key, **params)


@units_cli.command("import")
def units_import(
    province: Annotated[str | None, typer.Option(help="Official province code, e.g. 46 (Huế).")] = None,
    all_provinces: Annotated[bool, typer.Option("--all", help="All 34 provinces.")] = False,
) -> None:
    """Load the official post-2025 provinces and communes (needs the optional GPL-3.0 extra:
    pip install -e ".[provinces]")."""

    if (province is None) == (not all_provinces):
        raise _fail(say("province_or_all"))
    try:
        codes = unit_import.official_province_codes() if all_provinces else [province or ""]
        for code in codes:
            unit_import.official_rows(code)  # validate every code before writing anything
    except unit_import.ProvincesMissing as exc:
        raise _fail(_text(exc.key, **exc.params)) from None
    except DomainError as exc:
        raise _fail(_text(exc.key, **exc.params)) from None

    async def go(app: App) -> tuple[int, int, int]:
        added = updated = total = 0
        async with app.sessions() as session, session.begin():
            with Progress(console=console, disable=len(codes) == 1) as progress:
                task = progress.add_task(say("units_loading"), total=len(codes))
                for code in codes:
                    result = await unit_import.import_official(session, None, code)
                    added, updated, total = (
                        added + result.added,
                        updated + result.updated,
                        total + result.total,
                    )
                    progress.advance(task)
        return added, updated, total

    added, updated, total = _run(go)
    line = say("units_imported", total=total, added=added, updated=updated)
    ok(line)


@units_cli.command("import-csv")
def units_import_csv(
    file: Annotated[Path, typer.Argument(help="CSV with columns code,name,kind,parent_code.")],
) -> None:
    """Import any unit tree from CSV (UTF-8 or Windows-1258); a file with any problem imports nothing."""

    if not file.is_file():
        raise _fail(say("no_file", path=file))
    data = file.read_bytes()

    async def go(app: App) -> unit_import.ImportResult:
        async with app.sessions() as session, session.begin():
            return await unit_import.import_csv(session, None, data)

    try:
        result = _run(go)
    except unit_import.ImportRejected as exc:
        fail_line(_text(exc.key, **exc.params))
        for problem in exc.problems:
            reason = _text(problem.key, **problem.params)
            err.print(
                say("csv_row", row=problem.row, reason=reason), highlight=False, markup=False, soft_wrap=True
            )
        raise typer.Exit(2) from None
    except DomainError as exc:
        raise _fail(_text(exc.key, **exc.params)) from None
    line = say("units_csv_imported", total=result.total, added=result.added, updated=result.updated)
    ok(line)


@units_cli.command("list")
def units_list(
    under: Annotated[str | None, typer.Option(help="Only this unit and everything under it.")] = None,
) -> None:
    """Print the unit tree (or a subtree) with codes and kinds."""

    async def go(app: App) -> list[units.UnitView]:
        async with app.sessions() as session:
            return await units.list_units(session, under)

    found = _run(go)
    table = Table(say("units.code"), say("units.name"), say("units.kind"), say("units.active"))
    base = min((u.path.count("/") for u in found), default=0)
    for u in found:
        indent = "  " * (u.path.count("/") - base)
        table.add_row(u.code, indent + u.name, u.kind, say("units.yes" if u.active else "units.closed"))
    console.print(table)
    console.print(say("units_count", n=len(found)), highlight=False, soft_wrap=True)


@invites_cli.command("create")
def invites_create(
    unit: Annotated[str, typer.Option(help="Unit code, e.g. 19786-1.")],
    role: Annotated[str, typer.Option(help="volunteer, team_leader, officer, leader or admin.")],
    uses: Annotated[int, typer.Option(help="How many people may use the code.")] = 1,
    days: Annotated[int, typer.Option(help="Days before the code expires.")] = 7,
    approval: Annotated[
        bool, typer.Option(help="Joiners wait for the team leader (volunteers only).")
    ] = False,
) -> None:
    """Create an invite code; prints the code and the Telegram deep link."""

    choices = ", ".join(r.value for r in invites.INVITABLE_ROLES)
    try:
        role_value = Role(role)
    except ValueError:
        raise _fail(say("unknown_role", name=role, choices=choices)) from None
    if role_value not in invites.INVITABLE_ROLES:  # citizen: nobody needs a code to ask for help
        raise _fail(say("role_not_invitable", name=role, choices=choices))

    async def go(app: App) -> invites.InviteView:
        async with app.sessions() as session, session.begin():
            target = await units.get(session, unit)
            return await invites.create(
                session,
                None,
                role=role_value,
                unit_id=target.id,
                now=utcnow(),
                uses=uses,
                days=days,
                needs_approval=approval,
            )

    try:
        invite = _run(go)
    except (units.RoleUnitMismatch, units.UnitClosed) as exc:  # the words of `users grant`
        raise wrong_unit(exc) from None
    except DomainError as exc:
        raise _fail(_text(exc.key, **exc.params)) from None
    where = invite.unit.name if invite.unit else "—"
    made = say(
        "invite_created",
        code=invite.code,
        role=role_label(role_value),
        where=where,
        uses=uses,
        expires=f"{invite.expires_at:%Y-%m-%d %H:%M}",
    )
    ok(made)
    console.print(say("invite_join", code=invite.code), highlight=False, soft_wrap=True)
    username = os.environ.get(BOT_USERNAME_ENV, "").strip()
    if username:
        console.print(
            say("invite_link", url=invites.deep_link(username, invite.code)), highlight=False, soft_wrap=True
        )
    else:
        line = say("invite_link_unknown", code=invite.code, env=BOT_USERNAME_ENV)
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@invites_cli.command("revoke")
def invites_revoke(code: Annotated[str, typer.Argument(help="The invite code.")]) -> None:
    """Stop an invite code from working."""

    async def go(app: App) -> bool:
        async with app.sessions() as session, session.begin():
            return await invites.revoke(session, None, code)

    try:
        revoked = _run(go)
    except DomainError as exc:
        raise _fail(_text(exc.key, **exc.params)) from None
    shown = invites.normalize_code(code)
    if revoked:
        ok(say("invite_revoked", code=shown))
    else:
        console.print(say("invite_already_revoked", code=shown), highlight=False, soft_wrap=True)


@invites_cli.command("list")
def invites_list(
    unit: Annotated[str | None, typer.Option(help="Only codes of this unit and the units under it.")] = None,
) -> None:
    """Open codes (not revoked, expired or used up): role, unit, uses left, expiry, creator; codes
    that would still be refused (unit closed, creator may no longer invite) say why."""

    async def go(app: App) -> list[invites.OpenInvite]:
        async with app.sessions() as session:
            return await invites.open_codes(session, unit, utcnow())

    try:
        found = _run(go)
    except DomainError as exc:
        raise _fail(_text(exc.key, **exc.params)) from None
    # Readable on an 80-column terminal: the code, the role and the uses are never cut, the expiry
    # (what operators check) keeps its whole date — the time goes under it when narrow —; the unit
    # and the state with its creator wrap.
    table = Table(
        Column(
            say("invites.code"), no_wrap=True, min_width=max((len(x.invite.code) for x in found), default=8)
        ),
        Column(say("invites.role"), no_wrap=True, min_width=max(len(r.value) for r in found_roles(found))),
        Column(say("invites.uses_left"), no_wrap=True, min_width=5),
        Column(say("invites.expires"), min_width=len("2026-12-31")),
        Column(say("invites.unit"), ratio=1),
        Column(say("invites.state"), ratio=1),
    )
    for line in found:
        view = line.invite
        where = f"{view.unit.code} {view.unit.name}" if view.unit else say("invites.installation")
        state = say(REFUSED.get(line.reason or "", "invites.open"))
        if view.needs_approval:
            state += f", {say('invites.approval')}"
        creator = say("invites.created_by", name=line.creator or say("invites.operator"))
        table.add_row(
            view.code,
            view.role.value,
            f"{view.max_uses - view.uses}/{view.max_uses}",
            f"{view.expires_at:%Y-%m-%d %H:%M}",
            where,
            f"{state}; {creator}",
        )
    console.print(table)
    console.print(say("invites_count", n=len(found)), highlight=False, soft_wrap=True)
