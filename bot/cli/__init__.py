"""The `tocns` command line (Typer + Rich)."""

from __future__ import annotations

import errno
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bot import __version__
from bot.backup import BackupError, backup, default_name, restore_sqlite
from bot.backup import running as backup_running
from bot.cli._messages import UnknownLanguage, current_locale, pick_locale, say, usage_line
from bot.cli._messages import text as cli_text
from bot.cli._runtime import (
    DEMO_UNITS_CSV,
    Fail,
    check_channel,
    console,
    err,
    fail_line,
    ok,
    parse_role,
    refuse_grantless,
    role_label,
    run_async,
    settings,
    warn,
    wrong_unit,
)
from bot.cli.faq import faq_cli
from bot.cli.importing import import_cli
from bot.cli.kpi import jobs_cli, kpi_cli, targets_cli
from bot.cli.status import status as status_command
from bot.cli.units import invites_cli, units_cli
from bot.cli.web import demo_link, web_cli
from bot.cli.zalo import print_window_status, window_status, zalo_cli
from bot.config import ConfigError
from bot.kernel import App, DatabaseUnreachable, StartupError, WebPortError
from db import migrate
from db.base import utcnow
from handlers.i18n import Catalog
from services import demo, membership_changes, outbox, people, reachability, units
from services.access import Role
from services.errors import DomainError

if TYPE_CHECKING:
    from bot.channels.console import ConsoleUser

cli = typer.Typer(
    help="tocns — Trợ lý Tổ công nghệ số cộng đồng / community digital-technology team assistant.",
    no_args_is_help=True,
    add_completion=False,
)
db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
demo_cli = typer.Typer(help="Demo data.", no_args_is_help=True)
users_cli = typer.Typer(help="People and roles.", no_args_is_help=True)
outbox_cli = typer.Typer(help="The outbox of pushes.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(demo_cli, name="demo")
cli.add_typer(users_cli, name="users")
cli.add_typer(outbox_cli, name="outbox")
cli.add_typer(units_cli, name="units")
cli.add_typer(invites_cli, name="invites")
cli.add_typer(zalo_cli, name="zalo")
cli.add_typer(import_cli, name="import")
cli.add_typer(jobs_cli, name="jobs")
cli.add_typer(targets_cli, name="targets")
cli.add_typer(kpi_cli, name="kpi")
cli.add_typer(faq_cli, name="faq")
cli.command("status")(status_command)
cli.add_typer(web_cli, name="web")


def version_callback(value: bool) -> None:
    if value:
        console.print(f"tocns {__version__}")
        raise typer.Exit()


@cli.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
    lang: Annotated[
        str, typer.Option("--lang", help="Language of the output: vi (default) or en (or TOCNS_LOCALE).")
    ] = "vi",
) -> None:
    """tocns command line."""


# --- run / chat ----------------------------------------------------------------------------


@cli.command()
def run(
    as_user: Annotated[
        str,
        typer.Option(
            "--as",
            help="Console user: a demo user (demo database only) or a granted console account's id.",
        ),
    ] = "dan",
    seed_demo: Annotated[
        bool, typer.Option("--seed-demo", help="Load the demo data first (as `tocns demo seed`).")
    ] = False,
) -> None:
    """Start the bot: configured channels, or the console channel when no token is set."""
    from bot import serve as runner

    async def go(app: App) -> None:
        if seed_demo:  # in this process: start.sh's first answer does not wait for a second interpreter
            try:
                async with app.sessions() as session, session.begin():
                    await demo.seed(session, DEMO_UNITS_CSV, utcnow())
            except demo.RealDataPresent as exc:  # a real database: run on it, without the demo
                _say_no_demo(exc)
        channels, webapp = runner.build_channels(app)
        if not channels:
            user = await _console_user(app, as_user)  # refused before anything starts
            warn(say("no_channels"))
            # Keep the terminal for the conversation: only warnings and errors are logged here.
            if logging.getLogger().level < logging.WARNING:
                logging.getLogger().setLevel(logging.WARNING)
            web_runner = await runner.start_web(app, webapp)
            if web_runner is not None:  # the dashboard, next to the console prompt
                link = await demo_link(app, "lanhdao")
                err.print(
                    say("dashboard", url=f"{app.settings.web.base_url}/web/"), markup=False, soft_wrap=True
                )
                if link:
                    err.print(say("dashboard_link", link=link), soft_wrap=True, markup=False)
            try:
                await _console(app, user, None)
            finally:
                if web_runner is not None:
                    await web_runner.cleanup()
            return
        await runner.serve(app, channels, webapp)

    with backup_running(settings().database.url):  # `tocns restore` refuses while this runs
        run_async(go)


@cli.command()
def chat(
    as_user: Annotated[
        str,
        typer.Option(
            "--as",
            help="Demo user (demo database only): "
            + ", ".join(u.key for u in demo.DEMO_USERS)
            + "; or the --user-id of a console account granted with `tocns users grant --channel console`.",
        ),
    ] = "dan",
    script: Annotated[
        Path | None, typer.Option("--script", help="Run lines from a file, print replies.")
    ] = None,
) -> None:
    """Chat with the bot in the terminal as a demo user, or as a console account an operator
    granted (buttons appear as numbered choices). A --script runs every line (no flood guard);
    `#as <user>` switches user."""
    lines: list[str] | None = None
    if script is not None:
        lines = script.read_text(encoding="utf-8").splitlines()
    elif not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()

    async def go(app: App) -> None:
        await _console(app, await _console_user(app, as_user), lines)

    run_async(go, log=False)


async def _console(app: App, user: ConsoleUser, lines: list[str] | None) -> None:
    from bot.channels.console import chat as console_chat

    async def switch(name: str) -> ConsoleUser | str:
        try:
            return await _console_user(app, name)
        except Fail as exc:
            return str(exc)

    await console_chat(app, user, lines, switch=switch)


async def _console_user(app: App, name: str) -> ConsoleUser:
    """Who `--as NAME` (or `#as NAME`) is: a demo user on the demo's database (or an empty one);
    else the console account with that id. A demo user on a database with real data is refused —
    talking as them created demo people in it (docs/deploy.md)."""
    from bot.channels.console import ConsoleUser, as_console_user, demo_users_text, find_demo_user

    async with app.sessions() as session:
        actor = await people.find_actor(session, demo.DEMO_CHANNEL, name) if name else None
        real: demo.RealDataPresent | None = None
        try:
            await demo.check_demo_only(session)
        except demo.RealDataPresent as exc:
            real = exc
    demo_user = find_demo_user(name)
    if demo_user is not None and real is None:
        return as_console_user(demo_user)
    if actor is not None:
        roles = ", ".join(role_label(g.role) for g in actor.grants) or role_label(Role.CITIZEN)
        return ConsoleUser(name, actor.display_name, say("console_roles", roles=roles))
    if demo_user is not None and real is not None:
        raise Fail(say("demo_console_real_data", name=name, **real.params))
    if real is None:
        raise Fail(say("unknown_demo_user", name=name, choices=demo_users_text()))
    raise Fail(say("unknown_console_user", name=name))


# --- db / demo / users / outbox ------------------------------------------------------------


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""

    async def go(app: App) -> None:
        await migrate.upgrade(app.engine, app.settings.database.url)
        shown = app.engine.url.render_as_string(hide_password=True)  # which one: see docs/deploy.md
        ok(say("db_upgraded", url=shown))

    run_async(go, migrate=False)


@db_cli.command("current")
def db_current() -> None:
    """Show the applied and the latest revisions."""

    async def go(app: App) -> None:
        current = await migrate.current_revisions(app.engine)
        heads = migrate.head_revisions(app.settings.database.url)
        shown = ", ".join(sorted(current)) or say("db_empty")
        console.print(
            say("db_current", current=shown, latest=", ".join(sorted(heads))), markup=False, soft_wrap=True
        )

    run_async(go, migrate=False)


def _say_no_demo(exc: demo.RealDataPresent) -> None:
    """A real database: the demo is not loaded into it (said, not an error, where start.sh asks)."""
    warn(Catalog.load().text(current_locale(), exc.key, **exc.params))


@demo_cli.command("seed")
def demo_seed(
    skip_if_real: Annotated[
        bool,
        typer.Option("--skip-if-real", help="A database with other data: say so and exit 0 (start.sh)."),
    ] = False,
) -> None:
    """Load demo data (Thành phố Huế, its communes, teams, demo people and history). Idempotent;
    only into an empty database or the demo's own."""

    async def go(app: App) -> dict[str, int]:
        with console.status(say("demo_loading")):
            async with app.sessions() as session, session.begin():
                return await demo.seed(session, DEMO_UNITS_CSV, utcnow())

    try:
        counts = run_async(go)
    except demo.RealDataPresent as exc:
        if not skip_if_real:
            raise
        _say_no_demo(exc)
        return
    ok(say("demo_ready", **counts))


@users_cli.command("grant")
def users_grant(
    channel: Annotated[str, typer.Option(help="telegram, zalo_bot, zalo_oa or console.")],
    user_id: Annotated[str, typer.Option("--user-id", help="The person's id on that channel.")],
    role: Annotated[str, typer.Option(help="volunteer, team_leader, officer, leader or admin.")],
    unit: Annotated[
        str | None, typer.Option(help="Unit code (not needed for an installation-wide admin).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Give a role to a channel account (bootstraps the first admin or leader), on the kind of unit
    the role is held for (as an invite code: volunteer, team leader → a team; officer → a commune)."""

    check_channel(channel)
    role_value = parse_role(role)
    refuse_grantless(role_value)
    try:
        if role_value is Role.TEAM_LEADER and unit:
            run_async(lambda app: _grant_team_leader(app, channel, user_id, unit, name))
        else:
            run_async(lambda app: _grant(app, channel, user_id, role_value, unit, name))
    except (units.RoleUnitMismatch, units.UnitClosed) as exc:
        raise wrong_unit(exc) from None


async def _grant(
    app: App, channel: str, user_id: str, role: Role, unit: str | None, name: str | None
) -> None:
    async with app.sessions() as session, session.begin():
        done = await people.grant(
            session, channel=channel, external_id=user_id, role=role, unit_code=unit, display_name=name
        )
    person = done.person.id
    if done.outcome is people.GrantOutcome.LEADS_TEAM and done.unit is not None:
        line = say(
            "leader_is_member", name=done.person.display_name, person=person, team=done.unit.name, unit=unit
        )
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    where = unit or say("whole_installation")
    ok(say("role_granted", role=role_label(role), where=where, person=person))


async def _grant_team_leader(app: App, channel: str, user_id: str, unit: str, name: str | None) -> None:
    """One team leader per team: the chat's hand-over (services.membership_changes), told as the
    chat tells it, through the outbox that the running bot delivers."""
    from handlers.team import tell_hand_over

    async with app.sessions() as session, session.begin():
        done = await membership_changes.grant_team_leader(
            session, channel=channel, external_id=user_id, unit_code=unit, display_name=name, now=utcnow()
        )
        queued = 0
        if not done.already:
            _told, queued = await tell_hand_over(session, app.catalog, app.settings.app.locale, done)
    leader = done.member
    params = {"team": done.team.name, "unit": unit, "person": leader.person_id}
    if done.already:
        line = say("leader_already", name=leader.name, **params)
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    if done.stepped_down:
        old = ", ".join(d.name for d in done.stepped_down)
        line = say("leader_moved", old=old, new=leader.name, messages=queued, **params)
    else:
        line = say("leader_appointed", new=leader.name, messages=queued, **params)
    ok(line)


@users_cli.command("revoke")
def users_revoke(
    channel: Annotated[str, typer.Option(help="telegram, zalo_bot, zalo_oa or console.")],
    user_id: Annotated[str, typer.Option("--user-id", help="The person's id on that channel.")],
    role: Annotated[str, typer.Option(help="volunteer, team_leader, officer, leader or admin.")],
    unit: Annotated[str | None, typer.Option(help="Unit code (none for an installation-wide admin).")] = None,
) -> None:
    """End a role at once: open dialogs end, claimed hand-off tickets go back to the commune."""
    from handlers.revoke import after_role_loss, tell_revoked
    from services import revocation

    check_channel(channel)
    role_value = parse_role(role)

    async def go(app: App) -> tuple[int, list[str]]:
        now = utcnow()
        after: list[str] = []
        async with app.sessions() as session, session.begin():
            done = await revocation.revoke_account_role(session, channel, user_id, role_value, unit, now)
            released = 0
            for person_id in {d.person_id for d in done}:
                released += await after_role_loss(
                    session, app.catalog, app.settings.app.locale, person_id, now
                )
            for line in done:  # told as by a leader's /thuhoi (queued for the running bot)
                await tell_revoked(session, app.catalog, app.settings.app.locale, line)
            if role_value is Role.TEAM_LEADER and unit and done:
                # What the team is left with, and the person in it (docs/roles.md).
                team = await membership_changes.team_after(session, unit, done[0].person_id)
                if team is not None:
                    if team.leaderless:
                        after.append(say("leader_revoked_leaderless", team=team.team, unit=unit))
                    key = "leader_revoked_member" if team.still_member else "leader_revoked_out"
                    after.append(say(key, name=done[0].name))
        return released, after

    released, after = run_async(go)
    where = unit or say("whole_installation")
    line = say("role_revoked", role=role_label(role_value), where=where, released=released)
    ok(line)
    for more in after:
        console.print(more, markup=False, highlight=False, soft_wrap=True)


@outbox_cli.command("status")
def outbox_status() -> None:
    """Pending, sent, dead and unreachable pushes per kind."""

    async def go(
        app: App,
    ) -> tuple[list[tuple[str, str, int]], list[reachability.Unreachable], Any, list[tuple[str, str, int]]]:
        async with app.sessions() as session:
            counts = await outbox.summary(session)
            unreachable = await reachability.unreachable_people(session)
        return counts, unreachable, app.settings.tz, await window_status(app)

    counts, unreachable, tz, zalo_window = run_async(go)
    table = Table(say("outbox.kind"), say("outbox.status"), say("outbox.count"))
    for kind, status, count in counts:
        table.add_row(kind, status, str(count))
    console.print(table)
    if unreachable:
        people_table = Table(
            say("outbox.person"),
            say("outbox.channel"),
            say("outbox.since"),
            say("outbox.kept"),
            title=say("outbox.unreachable"),
        )
        for u in unreachable:
            people_table.add_row(
                u.name, u.channel, f"{u.since.astimezone(tz):%Y-%m-%d %H:%M}", str(u.waiting)
            )
        console.print(people_table)
        console.print(say("outbox.resend"), markup=False, soft_wrap=True)
    print_window_status(zalo_window)


@cli.command("backup")
def backup_command(
    out: Annotated[
        str | None,
        typer.Option(
            "--out", help="Target file, or a folder (ending in /) for a dated file in it (default: backups/)."
        ),
    ] = None,
) -> None:
    """Back up the database (SQLite online backup, or pg_dump for PostgreSQL)."""

    cfg = settings()
    url = cfg.database.url
    # A str, not a Path: Path("backups/") forgets the slash that says "a folder".
    target = Path(out or "backups/")
    if target.is_dir() or (out or "backups/").endswith(("/", os.sep)):
        target = target / default_name(url, cfg.tz)  # a new dated file in that folder
    done = backup(url, target)  # a BackupError is one line in the operator's language (main)
    line = say("backup_written", path=done, size=done.stat().st_size)
    ok(line)


@cli.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup made by `tocns backup` (SQLite).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the SQLite database with a backup (stop the bot first)."""

    url = settings().database.url
    if not file.is_file():  # before asking: nothing to restore from
        raise Fail(say("no_file", path=file))
    if not yes and not typer.confirm(say("restore_confirm", url=url, file=file)):
        # «n» is a cancellation like Ctrl-D: said, and exit code 1 (nothing was restored).
        warn(say("restore_cancelled"))
        raise typer.Exit(1)
    restore_sqlite(url, file)  # a BackupError is one line in the operator's language (main)
    ok(say("restored", file=file))


def main(argv: list[str] | None = None) -> Any:
    """Entry point: configuration and start-up problems are one line and a non-zero exit."""

    try:
        lang, args = pick_locale(list(sys.argv[1:] if argv is None else argv))
    except UnknownLanguage as exc:
        fail_line(cli_text(current_locale(), "unknown_lang", name=exc.name))
        sys.exit(2)
    try:
        return cli(args=args, prog_name="tocns", standalone_mode=False)
    except WebPortError as exc:
        key = "port_busy" if exc.errno == errno.EADDRINUSE else "port_failed"
        line = cli_text(lang, key, host=exc.host, port=exc.port, detail=exc.strerror or exc)
        fail_line(line)
        sys.exit(2)
    except DatabaseUnreachable as exc:
        fail_line(cli_text(lang, "db_unreachable", url=exc.url, detail=exc.detail))
        sys.exit(2)
    except Fail as exc:
        fail_line(str(exc))
        sys.exit(exc.code)
    except (ConfigError, StartupError) as exc:
        fail_line(str(exc))
        sys.exit(2)
    except BackupError as exc:
        fail_line(cli_text(lang, f"backup.{exc.key}", **exc.params))
        sys.exit(2)
    except DomainError as exc:
        fail_line(Catalog.load().text(lang, exc.key, **exc.params))
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:  # Ctrl-D or Ctrl-C at a question: a cancellation, as a «no» (docs/deploy.md)
        warn(cli_text(lang, "cancelled"))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        # Click (vendored by Typer) usage errors: missing argument, unknown command or option.
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            fail_line(usage_line(exc, lang))
            sys.exit(2)
        raise
