"""Channel-neutral values crossing the edge (Incoming, Reply) and the dialog Context."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.i18n import Catalog
from services import outbox, people
from services.access import Actor

if TYPE_CHECKING:  # handlers.settings imports the features' settings models, which import this module
    from handlers.settings import FeatureSettings

# Telegram's callback_data limit; every payload must fit on every channel.
MAX_PAYLOAD_BYTES = 64
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@(\w+))?(?:\s+(.*))?$", re.DOTALL)


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class MessageKind(StrEnum):
    """What a person sent; a caption travels as `text` whatever the kind."""

    TEXT = "text"
    DOCUMENT = "document"
    PHOTO = "photo"
    ANIMATION = "animation"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"
    VOICE = "voice"
    AUDIO = "audio"
    STICKER = "sticker"
    LOCATION = "location"
    VENUE = "venue"
    CONTACT = "contact"
    POLL = "poll"
    OTHER = "other"


# Kinds whose content can be handed on as a file (the channel downloads them).
FILE_KINDS = frozenset({MessageKind.DOCUMENT, MessageKind.PHOTO})


@dataclass(frozen=True, slots=True)
class IncomingFile:
    name: str
    mime: str
    data: bytes
    # Set before the update's transaction by a feature's file preparer (e.g. parsed rows).
    prepared: Any = None


@dataclass(frozen=True, slots=True)
class NotReceived:
    """A file a person sent that the channel could not fetch (over its size limit, host refused or
    unreachable): the catalog key of what to tell them."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update from any channel, reduced to what dialogs need."""

    channel: str
    chat_id: str
    user_id: str
    display_name: str
    update_key: str
    text: str | None = None
    payload: str | None = None  # a pressed button's payload
    file: IncomingFile | None = None
    chat_type: ChatType = ChatType.PRIVATE
    supports_buttons: bool = True
    bot_username: str | None = None
    language_hint: str | None = None  # the platform's UI language, for new people
    kind: MessageKind = MessageKind.TEXT
    edited: bool = False  # a correction of a message sent earlier (Telegram edited_message)
    # A file sent with this message that did not arrive (Zalo): the intake says so, once per update.
    not_received: NotReceived | None = None

    @property
    def command(self) -> tuple[str, str] | None:
        """(name, args) for `/name args`, name lower-cased; None for plain text."""
        if not self.text or self.payload is not None:
            return None
        m = _COMMAND.match(self.text.strip())
        if not m:
            return None
        return m.group(1).lower(), (m.group(3) or "").strip()

    def __post_init__(self) -> None:
        if self.file is not None and self.kind is MessageKind.TEXT:
            # A channel that only hands over a file (Zalo's images, documents): known by its type.
            image = self.file.mime.startswith("image/") and self.file.mime != "image/gif"
            object.__setattr__(self, "kind", MessageKind.PHOTO if image else MessageKind.DOCUMENT)

    @property
    def is_media(self) -> bool:
        """Anything but plain text: a file, a photo, a voice note, a sticker, a location…"""
        return self.kind is not MessageKind.TEXT or self.file is not None

    def with_payload(self, payload: str) -> Incoming:
        return replace(self, payload=payload, text=None)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str = ""
    url: str | None = None

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: AttachmentKind
    filename: str
    data: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class FileLimits:
    """The attachments a channel can hand on as files: photos and documents whose names end so, up
    to a size. Empty: none (the person gets only a note that something could not be sent)."""

    photo_types: tuple[str, ...] = ()
    photo_max: int = 0
    document_types: tuple[str, ...] = ()
    document_max: int = 0

    def allows(self, attachment: Attachment) -> bool:
        name = attachment.filename.lower()
        if attachment.kind is AttachmentKind.PHOTO:
            return name.endswith(self.photo_types) and len(attachment.data) <= self.photo_max
        return name.endswith(self.document_types) and len(attachment.data) <= self.document_max


@dataclass(frozen=True)
class AttachmentReach:
    """Which channels can deliver an attachment, filled by bot/serve.py from each channel adapter's
    own rule and settings (a Zalo channel without `files_public_url` sends a note instead of the
    file): a relay tells the sender when the file reaches none of the recipient's accounts. Channels
    not listed deliver every attachment (the default, e.g. an app assembled without channels)."""

    limited: Mapping[str, FileLimits] = field(default_factory=dict)

    def delivers(self, channel: str, attachment: Attachment) -> bool:
        limits = self.limited.get(channel)
        return limits is None or limits.allows(attachment)


@dataclass(frozen=True, slots=True)
class Reply:
    """What to say back: text, rows of buttons, maybe an image or a document."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    edit: bool = False  # replace the message whose button was pressed, where the channel can
    # A short notice about the pressed button itself (e.g. "this button is out of date"): shown in
    # the button's toast where the channel has one, never replacing the message that was tapped.
    toast: bool = False
    # Where options are typed (no buttons): a, b, c… instead of 1, 2, 3 — in a conversation relayed
    # to a person, a typed «2» is a message, never the second option («Đóng phiếu»).
    letters: bool = False

    def to_payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [[[b.label, b.payload, b.url] for b in row] for row in self.buttons]
        if self.letters:
            data["letters"] = True
        if self.attachment is not None:
            a = self.attachment
            data["attachment"] = {
                "kind": a.kind.value,
                "filename": a.filename,
                "caption": a.caption,
                "data": base64.b64encode(a.data).decode(),
            }
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Reply:
        rows = tuple(
            tuple(Button(label=b[0], payload=b[1], url=b[2] if len(b) > 2 else None) for b in row)
            for row in data.get("buttons", [])
        )
        att = data.get("attachment")
        attachment = None
        if att:
            attachment = Attachment(
                kind=AttachmentKind(att["kind"]),
                filename=att["filename"],
                data=base64.b64decode(att["data"]),
                caption=att.get("caption", ""),
            )
        return cls(
            text=str(data.get("text", "")),
            buttons=rows,
            attachment=attachment,
            letters=bool(data.get("letters", False)),
        )


def short_label(text: str, limit: int = 60) -> str:
    """A button label of at most `limit` characters, cut at a word boundary with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–") + "…"


def rows(*buttons: Button, per_row: int = 2) -> tuple[tuple[Button, ...], ...]:
    """Lay buttons out `per_row` to a row (phones are narrow)."""
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


T = TypeVar("T")


class ResourceKey(Generic[T]):
    """A typed key for long-lived objects built at assembly (aiohttp's AppKey idea)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ResourceKey({self.name})"


ATTACHMENT_REACH: ResourceKey[AttachmentReach] = ResourceKey("attachment_reach")


class Resources:
    def __init__(self) -> None:
        self._items: dict[ResourceKey[Any], Any] = {}

    def __setitem__(self, key: ResourceKey[T], value: T) -> None:
        self._items[key] = value

    def __getitem__(self, key: ResourceKey[T]) -> T:
        return cast(T, self._items[key])

    def get(self, key: ResourceKey[T]) -> T | None:
        return cast("T | None", self._items.get(key))

    @property
    def attachment_reach(self) -> AttachmentReach:
        """Which channels deliver attachments; every channel when the assembly said nothing."""
        return self.get(ATTACHMENT_REACH) or AttachmentReach()


@dataclass
class Context:
    """Everything one dialog step may use; built by the intake for one update."""

    session: AsyncSession
    msg: Incoming
    actor: Actor
    catalog: Catalog
    now: datetime
    tz: ZoneInfo
    default_locale: str
    resources: Resources
    settings: FeatureSettings = field(default_factory=lambda: _default_features())
    is_new_person: bool = False
    state_name: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)
    silent: bool = False  # a deliberate non-answer (e.g. group chatter)
    # The open step takes a typed number: options shown as a numbered list use letters instead,
    # so a typed "4" is the number 4, never the fourth option.
    letter_choices: bool = False
    # This answer only reminds of the open question (a file that is not an answer, an edit…): on
    # channels without buttons the question's numbered list stays valid.
    keep_menu: bool = False
    # This one answer's language, when the message's own language says more than the setting (an
    # English question from someone whose bot speaks Vietnamese): the FAQ sets it.
    answer_locale: str | None = None

    @property
    def locale(self) -> str:
        return self.answer_locale or self.actor.locale or self.msg.language_hint or self.default_locale

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    def t(self, key: str, **params: Any) -> str:
        return self.catalog.text(self.locale, key, **params)

    def reply(
        self,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
        *,
        attachment: Attachment | None = None,
        edit: bool = False,
        toast: bool = False,
    ) -> None:
        self.replies.append(
            Reply(
                text=text,
                buttons=tuple(tuple(r) for r in buttons),
                attachment=attachment,
                edit=edit,
                toast=toast,
            )
        )

    def say(
        self,
        key: str,
        buttons: Sequence[Sequence[Button]] = (),
        *,
        edit: bool = False,
        toast: bool = False,
        **params: Any,
    ) -> None:
        if (
            self.msg.payload is not None
            and not buttons
            and (key == "core.stale_button" or key.endswith(".stale"))
        ):
            # "This button is out of date" is about the button: its toast, not the tapped message.
            toast, edit = True, False
        self.reply(self.t(key, **params), buttons, edit=edit, toast=toast)

    def goto(self, name: str, **data: Any) -> None:
        """Enter (or stay in) a dialog state; `data` is merged into the saved state."""
        self.state_name = name
        self.state.update(data)

    def end(self) -> None:
        self.state_name = None
        self.state = {}

    async def notify(
        self,
        person_id: int,
        key: str,
        *,
        kind: str,
        idempotency: str,
        buttons: Sequence[Sequence[Button]] = (),
        **params: Any,
    ) -> int:
        """Queue a message to every account of a person, in their language; returns rows added."""
        return await notify(
            self.session,
            self.catalog,
            self.default_locale,
            person_id,
            key,
            kind=kind,
            idempotency=idempotency,
            buttons=buttons,
            **params,
        )


async def notify(
    session: AsyncSession,
    catalog: Catalog,
    default_locale: str,
    person_id: int,
    key: str,
    *,
    kind: str,
    idempotency: str,
    buttons: Sequence[Sequence[Button]] = (),
    **params: Any,
) -> int:
    """Context.notify without a Context (the command line): `key` in the person's language, queued
    to every account of theirs through the outbox; returns rows added."""
    actor = await people.load_actor(session, person_id)
    lang = actor.locale or default_locale
    reply = Reply(text=catalog.text(lang, key, **params), buttons=tuple(tuple(r) for r in buttons))
    return await push_reply(session, person_id, reply, kind=kind, idempotency=idempotency)


async def push_reply(
    session: AsyncSession, person_id: int, reply: Reply, *, kind: str, idempotency: str
) -> int:
    """Queue one reply to every account of a person (outbox rows keyed per account); rows added."""
    added = 0
    for ref in await people.reach(session, person_id):
        added += await outbox.enqueue(
            session,
            key=f"{idempotency}:{ref.channel}:{ref.chat_id}",
            kind=kind,
            channel=ref.channel,
            chat_id=ref.chat_id,
            payload=reply.to_payload(),
            person_id=person_id,
        )
    return added


def _default_features() -> FeatureSettings:
    """Defaults for a Context built outside the app (the intake always passes the validated ones)."""
    from handlers.settings import FeatureSettings

    return FeatureSettings()
