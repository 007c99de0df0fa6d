"""Typed button payloads (aiogram's CallbackData idea): a frozen class per kind of button.

    @dataclass(frozen=True)
    class Undo(Payload, prefix="ghi.undo"):
        session_id: int

    Button(label, Undo(42).pack())          # "ghi.undo:42"
    @router.callback(Undo)
    async def undo(ctx: Context, data: Undo) -> None: ...

A payload that does not parse (an old button, a forged one) never reaches the handler: the router
answers "this button is out of date" in one place. Features import each other's payload classes,
never their strings.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Any, ClassVar, Self

from handlers.core import MAX_PAYLOAD_BYTES

SEPARATOR = ":"


class PayloadError(ValueError):
    """The text is not a payload of this class (stale or forged)."""


class Payload:
    """Base of every typed payload; subclasses are frozen dataclasses with str/int/bool/StrEnum fields."""

    prefix: ClassVar[str]

    def __init_subclass__(cls, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if prefix:
            if SEPARATOR in prefix:
                raise ValueError(f"payload prefix {prefix!r} must not contain {SEPARATOR!r}")
            cls.prefix = prefix

    def pack(self) -> str:
        parts = [self.prefix]
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            parts.append(_encode(getattr(self, f.name), f.name))
        packed = SEPARATOR.join(parts)
        if len(packed.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload over {MAX_PAYLOAD_BYTES} bytes: {packed!r}")
        return packed

    @classmethod
    def unpack(cls, raw: str) -> Self:
        head, _, rest = raw.partition(SEPARATOR)
        if head != cls.prefix:
            raise PayloadError(raw)
        fields = _FIELDS.get(cls)
        if fields is None:
            fields = _fields(cls)
        values = rest.split(SEPARATOR) if fields else []
        if (rest and not fields) or len(values) != len(fields):
            raise PayloadError(raw)
        try:
            kwargs = {name: _decode(v, hint) for (name, hint), v in zip(fields, values, strict=True)}
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise PayloadError(raw) from exc


# (name, type) of each payload class's fields, resolved once per class: every button press unpacks
# a payload, and resolving the annotations (typing.get_type_hints) cost more than all the rest.
_FIELDS: dict[type[Payload], tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type[Payload]) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    fields = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    _FIELDS[cls] = fields
    return fields


def _encode(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = value.value if isinstance(value, enum.Enum) else str(value)
    if SEPARATOR in text:
        raise ValueError(f"payload field {name}={text!r} contains {SEPARATOR!r}")
    return str(text)


def _decode(text: str, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if text == "":
            return None
        hint = args[0]
    if hint is bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if hint is int:
        if not text.lstrip("-").isdigit():
            raise ValueError(text)
        return int(text)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(text)
    return text


def parse(raw: str, cls: type[Payload]) -> Payload | None:
    """The payload, or None when `raw` is not one of `cls`."""
    try:
        return cls.unpack(raw)
    except PayloadError:
        return None
