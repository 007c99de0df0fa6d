"""Which commune a citizen means, and who handles a commune's tickets: its teams' volunteers
and leaders, then its officers."""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Ticket, Unit
from services.access import Action, Actor, Role
from services.errors import NotFound
from services.text import fold_words
from services.units import UnitKind, UnitView, view

# Words that name the kind of commune; a citizen may or may not type them.
_COMMUNE_WORDS = frozenset({"xa", "phuong", "dac", "khu", "thi", "tran", "p", "x", "tt"})


def _words(text: str) -> list[str]:
    return fold_words(text).split()


def _iy(word: str) -> str:
    """«Vỹ»/«Vĩ», «Thủy»/«Thuỷ», «ky»/«ki»: spelled either way, compared the same."""
    return word.replace("y", "i")


# Words before an ancestor's name in a trailing «…, TP Huế», «tỉnh Quảng Trị», «Q. 1».
_PLACE_KIND = frozenset({"tp", "thanh", "pho", "tinh", "quan", "huyen", "tx", "q", "h", "thi", "xa"})
_TYPO_MIN_LEN = 5  # shorter names: a one-letter slip is another name, not a typo
_SUGGEST_SCORE = 70.0  # how close a name must be to be offered when nothing matched


async def _ancestor_names(session: AsyncSession) -> list[list[str]]:
    """The folded names of units above communes («hue» of «Thành phố Huế»), longest first."""
    above = (UnitKind.COUNTRY.value, UnitKind.PROVINCE.value, UnitKind.DISTRICT.value)
    stmt = select(Unit.name).where(Unit.kind.in_(above))
    names = {
        tuple(w for w in _words(n) if w not in _PLACE_KIND) for n in (await session.execute(stmt)).scalars()
    }
    return sorted((list(n) for n in names if n), key=len, reverse=True)


def _drop_place_tail(words: list[str], ancestors: list[list[str]]) -> list[str]:
    """«vi da tp hue» → «vi da»: a trailing city, province or district name (with its «TP»,
    «tỉnh»…) is where the commune is, not its name; the commune's own words always stay."""
    changed = True
    while changed:
        changed = False
        for name in ancestors:
            n = len(name)
            if len(words) > n and [_iy(w) for w in words[-n:]] == [_iy(w) for w in name]:
                words = words[:-n]
                while len(words) > 1 and words[-1] in _PLACE_KIND:
                    words = words[:-1]
                changed = True
                break
    return words


_PLACE_START = frozenset({"tp", "tinh", "huyen", "quan", "tx"})


def _before_place_words(words: list[str]) -> list[str]:
    """«phu xuan tinh thua thien hue» → «phu xuan»: from «tỉnh», «TP», «thành phố»… on, it is a
    place above the commune even when that place is not in the unit tree."""
    for i in range(1, len(words)):
        if words[i] in _PLACE_START or words[i : i + 2] == ["thanh", "pho"]:
            return words[:i]
    return words


def _queries(query: str, ancestors: list[list[str]]) -> list[list[str]]:
    """What the citizen may have meant as the name: the text before a comma («Phường Vĩ Dạ, TP
    Huế»), the whole text without a trailing city, the whole text."""
    out: list[list[str]] = []
    for part in (query.split(",")[0], query):
        typed = _words(part)
        for words in (_drop_place_tail(typed, ancestors), _before_place_words(typed), typed):
            if words and words not in out:
                out.append(words)
    return out


def _rank(wanted: list[str], name: list[str]) -> int | None:
    """0 the same name … 5, 6 one, two slips of the keyboard away; None: not this commune."""
    want, have = [_iy(w) for w in wanted], [_iy(n) for n in name]
    joined, typed = " ".join(have), " ".join(want)
    if joined == typed:
        return 0
    if typed in joined:
        return 1 if joined.startswith(typed) else 2
    if all(any(n.startswith(w) for n in have) for w in want):
        return 3
    glued, typed_glued = joined.replace(" ", ""), typed.replace(" ", "")
    if glued == typed_glued:  # «thuanhoa», «vida»
        return 4
    slips = OSA.distance(glued, typed_glued)
    if len(typed_glued) >= _TYPO_MIN_LEN and slips <= (1 if len(typed_glued) < 8 else 2):
        return 4 + slips
    return None


async def _communes(session: AsyncSession) -> list[Unit]:
    stmt = select(Unit).where(Unit.kind == UnitKind.COMMUNE.value, Unit.active.is_(True)).order_by(Unit.name)
    return list((await session.execute(stmt)).scalars())


async def find_communes(session: AsyncSession, query: str, limit: int = 5) -> list[UnitView]:
    """Active communes whose name matches what the citizen typed: no diacritics needed, the words
    "xã"/"phường" optional, i or y, with or without spaces, one slip of the keyboard, a trailing
    city or province («…, TP Huế»); exact names first."""
    ancestors = await _ancestor_names(session)
    units = await _communes(session)
    best: dict[int, tuple[int, str, Unit]] = {}
    for typed in _queries(query, ancestors):
        wanted = [w for w in typed if w not in _COMMUNE_WORDS]
        only_kind = not wanted  # "phường": every ward
        wanted = wanted or typed
        for unit in units:
            name = [w for w in _words(unit.name) if only_kind or w not in _COMMUNE_WORDS]
            rank = _rank(wanted, name)
            if rank is not None and (unit.id not in best or rank < best[unit.id][0]):
                best[unit.id] = (rank, unit.name, unit)
    ranked = sorted(best.values(), key=lambda r: (r[0], r[1]))
    return [view(u) for _, _, u in ranked[:limit]]


async def nearest_communes(session: AsyncSession, query: str, limit: int = 3) -> list[UnitView]:
    """When nothing matched: the few communes whose names come closest, to offer as choices
    (none for text that resembles no name: «abc», «2»)."""
    ancestors = await _ancestor_names(session)
    scored: dict[int, tuple[float, str, Unit]] = {}
    for typed in _queries(query, ancestors):
        want = "".join(_iy(w) for w in typed if w not in _COMMUNE_WORDS)
        if len(want) < 3:
            continue
        for unit in await _communes(session):
            have = "".join(_iy(w) for w in _words(unit.name) if w not in _COMMUNE_WORDS)
            score = fuzz.ratio(want, have)
            if score >= _SUGGEST_SCORE and (unit.id not in scored or score > scored[unit.id][0]):
                scored[unit.id] = (score, unit.name, unit)
    ranked = sorted(scored.values(), key=lambda r: (-r[0], r[1]))
    return [view(u) for _, _, u in ranked[:limit]]


async def commune(session: AsyncSession, unit_id: int) -> UnitView:
    unit = await session.get(Unit, unit_id)
    if unit is None or unit.kind != UnitKind.COMMUNE.value or not unit.active:
        raise NotFound("handoff.errors.no_commune")
    return view(unit)


async def last_commune(session: AsyncSession, person_id: int) -> UnitView | None:
    """The commune of the person's latest ticket, to offer it first next time."""
    stmt = select(Ticket.unit_id).where(Ticket.citizen_id == person_id).order_by(Ticket.id.desc()).limit(1)
    unit_id = (await session.execute(stmt)).scalar_one_or_none()
    if unit_id is None:
        return None
    unit = await session.get(Unit, unit_id)
    return view(unit) if unit is not None and unit.active else None


# --- who handles a commune -------------------------------------------------------------------


def can_handle(actor: Actor, commune_path: str) -> bool:
    """HANDLE_TICKETS held for the commune itself, a unit above it, or a team inside it."""
    for grant in actor.grants_for(Action.HANDLE_TICKETS):
        if grant.unit_path is None or commune_path.startswith(grant.unit_path):
            return True
        if grant.unit_path.startswith(commune_path):
            return True
    return False


def helper_unit(actor: Actor, commune_path: str) -> tuple[Role, str] | None:
    """(role, unit name) the actor answers as: their team inside the commune, or the commune."""
    best: tuple[Role, str] | None = None
    for grant in actor.grants_for(Action.HANDLE_TICKETS):
        path = grant.unit_path or ""
        if path.startswith(commune_path) and grant.role in (Role.VOLUNTEER, Role.TEAM_LEADER):
            return grant.role, grant.unit_name or ""
        if commune_path.startswith(path):
            best = best or (grant.role, grant.unit_name or "")
    return best


async def helpers_of(session: AsyncSession, commune_path: str) -> list[int]:
    """Volunteers and team leaders of the commune's teams (people ids, distinct)."""
    stmt = (
        select(Membership.person_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Unit.path.startswith(commune_path),
            Unit.kind == UnitKind.TEAM.value,
            Unit.active.is_(True),
            Membership.active.is_(True),
            Membership.role.in_((Role.VOLUNTEER.value, Role.TEAM_LEADER.value)),
        )
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())


async def officers_of(session: AsyncSession, unit_id: int) -> list[int]:
    stmt = (
        select(Membership.person_id)
        .where(
            Membership.unit_id == unit_id,
            Membership.role == Role.OFFICER.value,
            Membership.active.is_(True),
        )
        .distinct()
        .order_by(Membership.person_id)
    )
    return list((await session.execute(stmt)).scalars())
