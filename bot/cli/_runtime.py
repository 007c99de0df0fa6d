"""What every CLI command shares: build the app, run one coroutine, fail with one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from rich.console import Console
from rich.text import Text

from bot.assemble import build, check_database, prepare_database
from bot.cli._messages import current_locale
from bot.cli._messages import text as cli_text
from bot.config import Settings, load_settings
from bot.kernel import ROOT, App
from bot.logs import setup as setup_logging
from handlers.i18n import Catalog
from services import people, units
from services.access import Role

# Plain text, never markup: what is printed (catalog lines, unit names from a CSV, file names,
# drivers' errors) may hold square brackets that rich took for markup and dropped — «pip install
# -e ".[provinces]"» came out as «pip install -e "."». Colour goes through style= (ok/warn/fail).
console = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)
T = TypeVar("T")
DEMO_UNITS_CSV = ROOT / "data" / "demo" / "units_hue.csv"


class Fail(Exception):
    """A user-facing CLI error: printed as one line, exit code 2 (a usage or data mistake) or 1 (the
    world outside failed: network)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def ok(line: str) -> None:
    """A result line, in green."""
    console.print(line, style="green", soft_wrap=True)


def warn(line: str) -> None:
    """A warning line on stderr, in yellow."""
    err.print(line, style="yellow", soft_wrap=True)


def fail_line(line: str) -> None:
    """«tocns: <line>» on stderr (the prefix in red), the line as it is."""
    err.print(Text.assemble(("tocns:", "red"), " ", line), soft_wrap=True)


def check_channel(channel: str) -> None:
    """`--channel`: one of the channels an account can be on, checked before anything is written."""
    if channel not in people.CHANNELS:
        choices = ", ".join(people.CHANNELS)
        raise Fail(cli_text(current_locale(), "unknown_channel", name=channel, choices=choices))


def parse_role(role: str) -> Role:
    """`--role`: one of the roles, or a one-line refusal naming them."""
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise Fail(cli_text(current_locale(), "unknown_role", name=role, choices=choices)) from None


def refuse_grantless(role: Role) -> None:
    """`--role citizen` for a grant: everyone is one already (an invite code refuses it too)."""
    if role is Role.CITIZEN:
        choices = ", ".join(r.value for r in Role if r is not Role.CITIZEN)
        raise Fail(cli_text(current_locale(), "role_not_grantable", choices=choices))


# Smallest first, as an operator reads them: «một tổ», …, «cả nước».
_KINDS_SHOWN = tuple(reversed(units.UnitKind))


def wrong_unit(exc: units.RoleUnitMismatch | units.UnitClosed) -> Fail:
    """One line for a role on a kind of unit it is not held for, or on a closed unit."""
    lang = current_locale()
    params = exc.params
    if isinstance(exc, units.UnitClosed):
        return Fail(cli_text(lang, "unit_closed_grant", code=params["code"], unit=params["unit"]))
    role = Role(params["role"])
    held = units.ROLE_UNIT_KINDS.get(role, frozenset())
    kinds = [cli_text(lang, f"kind.{k.value}") for k in _KINDS_SHOWN if k in held]
    allowed = cli_text(lang, "kind.or").join(filter(None, [", ".join(kinds[:-1]), *kinds[-1:]]))
    if role is Role.ADMIN:
        allowed += cli_text(lang, "kind.or_installation")
    if params["code"] is None:
        return Fail(cli_text(lang, "role_wrong_kind_none", role=role_label(role), kinds=allowed))
    kind = str(params["kind"])
    return Fail(
        cli_text(
            lang,
            "role_wrong_kind",
            code=params["code"],
            unit=params["unit"],
            kind=cli_text(lang, f"kind.{kind}") if kind in set(units.UnitKind) else kind,
            role=role_label(role),
            kinds=allowed,
        )
    )


def role_label(role: Role) -> str:
    """A role as the chat names it, with the value typed on the command line: «tổ trưởng (team_leader)»."""
    return f"{Catalog.load().text(current_locale(), f'onboarding.roles.{role.value}')} ({role.value})"


def settings() -> Settings:
    return load_settings()


def run_async(fn: Callable[[App], Awaitable[T]], *, migrate: bool = True, log: bool = True) -> T:
    """Build the app, prepare the database, run `fn`, dispose — for every command. Without
    `migrate` (`db upgrade`, `db current`) the database is still checked first: one line, exit 2,
    when it cannot be reached."""
    cfg = settings()
    if log:
        setup_logging(cfg.log)

    async def main() -> T:
        app = build(cfg)
        try:
            if migrate:
                await prepare_database(app)
            else:
                await check_database(app)
            return await fn(app)
        finally:
            await app.close()

    return asyncio.run(main())
