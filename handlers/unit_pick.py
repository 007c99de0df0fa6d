"""Which of the person's own units a command is for, when they hold their role for several (an
officer of two communes): one button a unit, «Name (code)», or its code typed as the answer.
/baocao asks before the report (handlers/baocao.py); /kpi, /xephang and /xuat before the figures
(handlers/kpi.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from handlers.core import Button, Context, rows


class Named(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


U = TypeVar("U", bound=Named)


def label(unit: Named) -> str:
    """«Phường Thuận Hóa (19786)», cut to fit a button."""
    return f"{unit.name} ({unit.code})"[:60]


def listed(units: Sequence[Named]) -> str:
    """«Phường Thuận Hóa (19786), Phường Phú Xuân (19768)»: the person's units, named in a sentence."""
    return ", ".join(f"{u.name} ({u.code})" for u in units)


def ask(ctx: Context, key: str, units: Sequence[U], payload: Callable[[U], str], **params: Any) -> None:
    """The question `key` with one button a unit, one under the other; the text gets `count` and
    `example` (the first unit's code, to type at once next time) besides `params`."""
    buttons = rows(*(Button(label(u), payload(u)) for u in units), per_row=1)
    ctx.say(key, buttons, count=len(units), example=units[0].code, **params)


def typed(units: Sequence[U], text: str | None) -> U | None:
    """The unit whose code was typed as the answer, else None."""
    code = (text or "").strip()
    return next((u for u in units if u.code == code), None)
