"""A dialog declared once (PTB's ConversationHandler table, aiogram's StatesGroup, more simply).

    class Ask(States, prefix="ghi"):
        what = State()
        count = State()

    DIALOG = Dialog(Ask, {
        Ask.what: Step(ask=ask_what, take=take_what),
        Ask.count: Step(ask=ask_count, take=take_count),
    })
    router.dialog(DIALOG)

- A state is named once, in the class: `Ask.cuont` fails at import, `ctx.goto(Ask.count)` is checked.
- One step = how to ask + how to take an answer. A button made with `step_button(Ask.count, "5")`
  and the typed text "5" reach the same `take(ctx, "5")`: each step is written once.
- A button whose step is no longer the open one is answered "out of date" in one place.
- The table at the bottom of a feature module shows the whole graph.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from handlers.core import Button, Context
from handlers.payloads import Payload


class State(str):
    """One named state of a dialog; its value is '<prefix>.<attribute>' once the class is made."""

    __slots__ = ()

    def __new__(cls, name: str = "") -> State:
        return super().__new__(cls, name)


class States:
    """Base of a dialog's state declaration; subclass with `prefix=`."""

    prefix: ClassVar[str]
    all: ClassVar[tuple[State, ...]]

    def __init_subclass__(cls, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.prefix = prefix
        found: list[State] = []
        for attr, value in list(vars(cls).items()):
            if isinstance(value, State):
                named = State(f"{prefix}.{attr}")
                setattr(cls, attr, named)
                found.append(named)
        cls.all = tuple(found)


@dataclass(frozen=True)
class StepAnswer(Payload, prefix="step"):
    """A button that answers one step of a dialog: the state it answers and the value."""

    state: str
    value: str


def step_button(label: str, state: State, value: str) -> Button:
    return Button(label, StepAnswer(str(state), value).pack())


Ask = Callable[[Context], Awaitable[None] | None]
Take = Callable[[Context, str], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    ask: Ask
    take: Take


class Dialog:
    """States plus the step table; the router sends typed text and step buttons here."""

    def __init__(self, states: type[States], steps: Mapping[State, Step], *, stale_key: str = "") -> None:
        missing = [s for s in steps if s not in states.all]
        if missing:
            raise ValueError(f"dialog {states.prefix}: steps for undeclared states {missing}")
        self.states = states
        self.steps = dict(steps)
        self.stale_key = stale_key or "core.stale_button"

    @property
    def prefix(self) -> str:
        return self.states.prefix

    def owns(self, state_name: str | None) -> bool:
        return state_name is not None and state_name in self.states.all

    async def ask(self, ctx: Context, state: State) -> None:
        """Enter `state` and ask its question."""
        ctx.goto(state)
        result = self.steps[state].ask(ctx)
        if result is not None:
            await result

    async def take_text(self, ctx: Context) -> bool:
        """Typed text for the open step; False when the open state has no step (the caller decides)."""
        step = self.steps.get(State(ctx.state_name or ""))
        if step is None:
            return False
        await step.take(ctx, (ctx.msg.text or "").strip())
        return True

    async def take_button(self, ctx: Context, answer: StepAnswer) -> None:
        if answer.state != ctx.state_name or answer.state not in self.steps:
            ctx.say(self.stale_key)
            return
        await self.steps[State(answer.state)].take(ctx, answer.value)
