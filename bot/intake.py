"""Update intake: one transaction per update — dedupe mark, person, dialog state, domain writes
and outbox rows commit together or not at all."""

from __future__ import annotations

import hashlib
import logging
import time
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.sequencer import WriteGate
from db.base import utcnow
from db.repositories import core as repo
from db.repositories import updates
from handlers.basic import refusal_text
from handlers.core import Button, Context, Incoming, Reply, Resources
from handlers.i18n import Catalog
from handlers.router import Router
from handlers.settings import FeatureSettings
from services import people, reachability
from services.access import Actor
from services.errors import DomainError, PermissionDenied
from services.text import fold

log = logging.getLogger("tocns.update")
UNREACHABLE_REFRESH = 30.0  # seconds between reads of the unreachable addresses


class DatabaseUnavailable(Exception):
    """The update could not be stored; the platform should deliver it again later."""


@dataclass(frozen=True, slots=True)
class Outcome:
    replies: list[Reply]
    duplicate: bool = False


def _clean_text(value: str | None) -> str | None:
    """Drop control characters (but newlines and tabs), lone surrogates, and invisible format
    characters — bidirectional overrides (U+202E turns «Tổ 1» into a lie on the reader's screen)
    and zero-width spaces — from everything typed: names, relayed text, payloads. PostgreSQL
    rejects NUL, and nothing a person types needs them. The emoji joiner (U+200D) stays."""
    if value is None:
        return None
    if value.isprintable():
        return value
    return "".join(c for c in value if c in "\n\t\u200d" or unicodedata.category(c) not in ("Cc", "Cs", "Cf"))


def sanitize(msg: Incoming) -> Incoming:
    file = msg.file
    if file is not None:
        file = replace(file, name=_clean_text(file.name) or "file")
    text, payload = _clean_text(msg.text), _clean_text(msg.payload)
    display_name = _clean_text(msg.display_name) or ""
    if file is None and text is msg.text and payload is msg.payload and display_name is msg.display_name:
        return msg  # nothing to drop (nearly always): no copy
    return replace(msg, text=text, payload=payload, display_name=display_name, file=file)


def _only_not_received(msg: Incoming) -> bool:
    """A file that did not arrive, with no words or option beside it: nothing for the dialogs."""
    return msg.not_received is not None and msg.payload is None and not (msg.text or "").strip()


def _route_label(msg: Incoming, state: str | None) -> str:
    if _only_not_received(msg):
        return "media:not_received"
    if msg.payload is not None:
        return "button:" + msg.payload.split(":", 1)[0]
    if (cmd := msg.command) is not None:
        return "command:" + cmd[0]
    if msg.is_media:
        return f"media:{msg.kind.value}"
    if msg.edited:
        return "edited"
    return f"state:{state}" if state else "text"


class FloodGuard:
    """Per-user sliding window; over the limit, one polite notice then silence."""

    def __init__(self, limit: int, window: float = 10.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._warned: dict[tuple[str, str], float] = {}

    def check(self, channel: str, user_id: str, now: float) -> str:
        """'ok', 'warn' (first message over the limit) or 'drop'."""
        key = (channel, user_id)
        hits = self._hits[key]
        while hits and now - hits[0] > self.window:
            hits.popleft()
        hits.append(now)
        if len(hits) <= self.limit:
            return "ok"
        if now - self._warned.get(key, 0.0) > self.window:
            self._warned[key] = now
            return "warn"
        return "drop"


class Intake:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        catalog: Catalog,
        resources: Resources,
        *,
        default_locale: str,
        tz: Any,
        idle: timedelta,
        flood_limit: int = 20,
        features: FeatureSettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        serial_writes: bool | None = None,
    ) -> None:
        self.sessions = sessions
        self.router = router
        self.catalog = catalog
        self.resources = resources
        self.default_locale = default_locale
        self.tz = tz
        self.idle = idle
        self.flood = FloodGuard(flood_limit)
        self.features = features or FeatureSettings()
        self.clock = clock
        if serial_writes is None:
            bind = sessions.kw.get("bind")
            serial_writes = bind is not None and bind.dialect.name == "sqlite"
        # SQLite has one writer: concurrent updates queue here, in order, rather than in its busy
        # handler. Jobs take the same gate for their short write batches (bot/scheduler.py).
        self.write_gate = WriteGate(serial_writes)
        self.transactions = 0  # write transactions begun (tests read it: one per update)
        self._unreachable: set[tuple[str, str]] = set()
        self._unreachable_at = float("-inf")
        # Told of every update (channel, route, outcome, seconds): the metrics hook.
        self.observe: Callable[[str, str, str, float], None] | None = None

    @property
    def engine(self) -> AsyncEngine:
        """The engine updates are written through (on a SQLite file, its inline twin)."""
        bind = self.sessions.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        return bind

    async def handle(self, msg: Incoming) -> Outcome:
        """Process one update; raises DatabaseUnavailable when nothing could be stored."""
        started = time.perf_counter()
        msg = sanitize(msg)
        key_hash = hashlib.sha256(msg.update_key.encode()).hexdigest()[:12]
        verdict = self.flood.check(msg.channel, msg.user_id, time.monotonic())
        if verdict != "ok":
            log.info("update channel=%s key=%s route=flood outcome=%s", msg.channel, key_hash, verdict)
            text = self.catalog.text(msg.language_hint or self.default_locale, "core.flood")
            return Outcome([Reply(text)] if verdict == "warn" else [])
        route = "?"
        outcome = "ok"
        locale = self.default_locale
        try:
            try:
                if msg.file is not None:
                    msg = await self.router.prepare(msg, self.sessions)  # no transaction open
                try:
                    replies, route, locale, duplicate = await self._process_fresh_connection(msg)
                except IntegrityError:
                    # Chats run concurrently: two updates may create the same row at once (a new
                    # person writing in a group and in private, one question asked twice). The
                    # transaction was rolled back whole; run the update once more, now it sees it.
                    log.info("update channel=%s key=%s retried after a conflict", msg.channel, key_hash)
                    replies, route, locale, duplicate = await self._process(msg)
                if duplicate:
                    outcome = "duplicate"
                    return Outcome([], duplicate=True)
                return Outcome(replies)
            except DomainError as exc:
                outcome = "domain_error"
                actor = await self._mark_seen_after_failure(
                    msg, denied=exc if isinstance(exc, PermissionDenied) else None
                )
                # The transaction that knew the person's language was rolled back: ask again.
                locale = (actor.locale if actor else None) or msg.language_hint or locale
                generic = isinstance(exc, PermissionDenied) and exc.key == PermissionDenied.key
                if generic and actor is not None:
                    # Who can do it for *this* person (a citizen, a volunteer, a city leader…).
                    return Outcome([Reply(refusal_text(self.catalog, locale, actor))])
                return Outcome([Reply(self.catalog.text(locale, exc.key, **exc.params))])
            except (OperationalError, DBAPIError, OSError, TimeoutError) as exc:
                if _is_connection_problem(exc):
                    outcome = "db_unavailable"
                    raise DatabaseUnavailable(str(exc)) from exc
                raise
        except DatabaseUnavailable:
            raise
        except Exception:
            outcome = "error"
            log.exception("update failed channel=%s key=%s route=%s", msg.channel, key_hash, route)
            try:
                actor = await self._mark_seen_after_failure(msg)
            except Exception as exc:
                raise DatabaseUnavailable(str(exc)) from exc
            locale = (actor.locale if actor else None) or msg.language_hint or locale
            return Outcome([Reply(self.catalog.text(locale, "core.error"))])
        finally:
            ms = (time.perf_counter() - started) * 1000
            if self.observe is not None:
                self.observe(msg.channel, route, outcome, ms / 1000)
            log.info(
                "update channel=%s key=%s route=%s outcome=%s ms=%.1f",
                msg.channel,
                key_hash,
                route,
                outcome,
                ms,
            )

    async def _mark_seen_after_failure(
        self, msg: Incoming, denied: PermissionDenied | None = None
    ) -> Actor | None:
        # The failed transaction was rolled back; remember the update so a redelivery of the
        # same poisoned update does not loop. Refusals are audit-logged (who tried what). The
        # person (when known) is returned: their language, and their roles to say who can do it.
        async with self.write_gate.hold(), self.sessions() as session, session.begin():
            self.transactions += 1
            await updates.mark_update_seen(session, msg.update_key)
            account = await repo.find_account(session, msg.channel, msg.user_id)
            if denied is not None:
                await repo.audit(
                    session,
                    account.person_id if account else None,
                    "access.denied",
                    _route_label(msg, None),
                    {k: str(v) for k, v in denied.params.items()},
                )
            if account is not None:
                return await people.load_actor(session, account.person_id)
        return None

    async def _process_fresh_connection(self, msg: Incoming) -> tuple[list[Reply], str, str, bool]:
        """`_process`, once more when a pooled connection proved dead (the database restarted, a
        firewall dropped an idle connection): the engine does not ping before each transaction, so
        the first use of such a connection fails as a disconnect — the pool has dropped it by then,
        and nothing of the update was stored."""
        try:
            return await self._process(msg)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.info("update channel=%s retried on a fresh connection", msg.channel)
            return await self._process(msg)

    async def _process(self, msg: Incoming) -> tuple[list[Reply], str, str, bool]:
        async with self.write_gate.hold(), self.sessions() as session, session.begin():
            self.transactions += 1
            fresh, bundle = await updates.mark_seen_and_bundle(
                session, msg.update_key, msg.channel, msg.user_id, msg.chat_id
            )
            if not fresh:
                return [], "duplicate", self.default_locale, True
            actor, created = await people.resolve(
                session,
                msg.channel,
                msg.user_id,
                msg.chat_id if msg.chat_type == "private" else "",
                msg.display_name,
                bundle=bundle,
            )
            await self._reachable_again(session, msg)
            row = bundle.state
            state_name: str | None = None
            data: dict[str, Any] = {}
            menu: list[Any] = []
            now = self.clock()
            expired = False
            if row is not None:
                if row.name and now - row.updated_at > self.idle:
                    if self.router.is_quiet(row.name):
                        menu = list(row.menu or [])  # only the follow-up lapses: its options stay
                    else:
                        expired = True
                else:
                    state_name, data, menu = row.name, dict(row.data or {}), list(row.menu or [])
            msg = self._apply_menu(msg, menu)
            route = _route_label(msg, state_name)
            ctx = Context(
                session=session,
                msg=msg,
                actor=actor,
                catalog=self.catalog,
                now=now,
                tz=self.tz,
                default_locale=self.default_locale,
                resources=self.resources,
                settings=self.features,
                is_new_person=created,
                state_name=state_name,
                state=data,
            )
            locale = ctx.locale
            if expired and msg.command is None and msg.payload is None:
                ctx.say("core.session_expired")
            if msg.not_received is not None:
                # Said here, after the update's dedupe mark: a redelivered event is not answered
                # twice. Only the words beside the file (a caption), if any, go on to the dialogs.
                ctx.reply(ctx.t(msg.not_received.key, **msg.not_received.params))
            if _only_not_received(msg):
                ctx.keep_menu = True  # the open question and its numbered options still stand
            else:
                await self.router.dispatch(ctx)
            locale = ctx.locale
            replies = ctx.replies
            new_menu: list[Any] = []
            if not msg.supports_buttons:
                replies, new_menu = self._number_buttons(ctx, replies)
                if not new_menu and ctx.keep_menu:
                    new_menu = menu  # a reminder without options: the open question's list still holds
            # The bundle already told whether a state row exists (for a known account): it is
            # written back through Core, and with none before and none after not at all.
            if bundle.person is None:  # a new account: the bundle did not look for a state row
                await repo.save_dialog_state(
                    session, msg.channel, msg.chat_id, msg.user_id, ctx.state_name, ctx.state, new_menu, now
                )
            else:
                forgotten = session.info.get(updates.FORGOTTEN_DIALOGS)
                if row is not None and forgotten and (msg.channel, msg.user_id) in forgotten:
                    row = None  # this update ended the person's own dialogs (a role given up or lost)
                await updates.save_state(
                    session,
                    row,
                    msg.channel,
                    msg.chat_id,
                    msg.user_id,
                    ctx.state_name,
                    ctx.state,
                    new_menu,
                    now,
                )
            return replies, route, locale, False

    async def _reachable_again(self, session: AsyncSession, msg: Incoming) -> None:
        """Whoever writes can be written to again: their pushes that failed as unreachable are due.
        The (short) list of unreachable addresses is re-read every UNREACHABLE_REFRESH seconds, so
        an ordinary update costs a set look-up, not a query."""
        if time.monotonic() - self._unreachable_at > UNREACHABLE_REFRESH:
            self._unreachable = set(await reachability.unreachable_addresses(session))
            self._unreachable_at = time.monotonic()
        address = (msg.channel, msg.chat_id)
        if address in self._unreachable:
            await reachability.on_contact(session, msg.channel, msg.chat_id, self.clock())
            self._unreachable.discard(address)

    def forget_reachability(self) -> None:
        """Re-read unreachable addresses at the next update (after the dispatcher marked one)."""
        self._unreachable_at = float("-inf")

    @staticmethod
    def _apply_menu(msg: Incoming, menu: list[Any]) -> Incoming:
        """On channels without buttons, a number (or an option's text) picks a numbered option."""
        if not menu or msg.text is None or msg.command is not None:
            return msg
        answer = msg.text.strip().rstrip(".)")
        folded = fold(msg.text)
        for entry in menu:
            # [label, payload] is numbered 1, 2, …; [label, payload, token] is picked by its token.
            if len(entry) > 2 and fold(answer) == entry[2]:
                return msg.with_payload(entry[1])
        if answer.isdigit() and 1 <= int(answer) <= len(menu) and len(menu[int(answer) - 1]) == 2:
            return msg.with_payload(menu[int(answer) - 1][1])
        for entry in menu:
            if fold(entry[0]) == folded:
                return msg.with_payload(entry[1])
        return msg

    def _number_buttons(self, ctx: Context, replies: list[Reply]) -> tuple[list[Reply], list[Any]]:
        # Options are numbered across all replies of one answer, so every option stays pickable.
        # Where a typed number is an answer (or an option is itself a number), options get letters.
        menu: list[Any] = []
        out: list[Reply] = []
        lettered = (
            ctx.letter_choices
            or any(r.letters for r in replies)
            or any(b.label.strip().isdigit() for r in replies for row in r.buttons for b in row)
        )
        for reply in replies:
            if not reply.buttons:
                out.append(reply)
                continue
            lines = [reply.text, ""]
            for button in (b for row in reply.buttons for b in row):
                if button.url:
                    lines.append(f"• {button.label}: {button.url}")
                    continue
                if lettered:
                    token = _letter(len(menu))
                    menu.append([button.label, button.payload, token])
                    lines.append(f"{token}. {button.label}")
                else:
                    menu.append([button.label, button.payload])
                    lines.append(f"{len(menu)}. {button.label}")
            if any(not b.url for row in reply.buttons for b in row):
                lines.append(ctx.t("core.choose_letter" if lettered else "core.choose_number"))
            out.append(replace(reply, text="\n".join(lines).strip(), buttons=()))
        return out, menu


def _letter(index: int) -> str:
    """a, b, …, z, then aa, ab…: option tokens that can never be read as a number."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


def render_numbered(
    text: str, buttons: tuple[tuple[Button, ...], ...], letters: bool = False
) -> tuple[str, list[Any]]:
    """Numbered (or lettered) rendering for pushes on channels without buttons (the dispatcher)."""
    lines = [text, ""]
    menu: list[Any] = []
    for button in (b for row in buttons for b in row):
        if button.url:
            lines.append(f"• {button.label}: {button.url}")
            continue
        if letters:
            token = _letter(len(menu))
            menu.append([button.label, button.payload, token])
            lines.append(f"{token}. {button.label}")
            continue
        menu.append([button.label, button.payload])
        lines.append(f"{len(menu)}. {button.label}")
    return "\n".join(lines).strip(), menu


def _is_connection_problem(exc: BaseException) -> bool:
    if isinstance(exc, OSError | TimeoutError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc).lower()
    return any(
        s in text
        for s in (
            "database is locked",
            "connection refused",
            "could not connect",
            "connection was closed",
            "server closed",
            "cannot connect",
            "unable to open database",
            "connection reset",
            "the database system is shutting down",
            "terminating connection",
        )
    )
