"""Telegram Update → channel-neutral Incoming. Pure translation: no feature logic here."""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import Chat, Message, Update, User

from handlers.core import ChatType, Incoming, IncomingFile

CHANNEL = "telegram"
LANGUAGES = ("vi", "en")


@dataclass(frozen=True, slots=True)
class Me:
    """What the adapter needs to know about the bot itself."""

    id: int
    username: str


@dataclass(frozen=True, slots=True)
class FileRef:
    """A document waiting to be downloaded (the translation itself does no I/O)."""

    file_id: str
    name: str
    mime: str
    size: int | None


def update_key(update: Update) -> str:
    return f"{CHANNEL}:{update.update_id}"


def language_hint(user: User | None) -> str | None:
    """The person's Telegram UI language when it is one the catalog speaks ("en-US" → "en")."""
    code = (user.language_code or "").split("-")[0].lower() if user else ""
    return code if code in LANGUAGES else None


def display_name(user: User) -> str:
    return (user.full_name or user.username or str(user.id)).strip()[:120]


def is_group(chat: Chat) -> bool:
    return chat.type in (Chat.GROUP, Chat.SUPERGROUP)


def _command_for_other_bot(text: str, me: Me) -> bool:
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    if "@" not in head:
        return False
    return head.split("@", 1)[1].lower() != me.username.lower()


def _addressed_to_bot(message: Message, me: Me) -> bool:
    """In a group the bot only listens to commands and to replies to its own messages."""
    text = message.text or message.caption or ""
    if text.startswith("/"):
        return not _command_for_other_bot(text, me)
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == me.id)


def _base(update: Update, chat: Chat, user: User, me: Me) -> Incoming:
    return Incoming(
        channel=CHANNEL,
        chat_id=str(chat.id),
        user_id=str(user.id),
        display_name=display_name(user),
        update_key=update_key(update),
        chat_type=ChatType.GROUP if is_group(chat) else ChatType.PRIVATE,
        supports_buttons=True,
        bot_username=me.username or None,
        language_hint=language_hint(user),
    )


def to_incoming(update: Update, me: Me) -> tuple[Incoming, FileRef | None] | None:
    """The Incoming for an update (plus a document to fetch), or None when the bot should not react."""
    query = update.callback_query
    if query is not None:
        msg = query.message
        if msg is None or query.data is None:  # inline-mode or game callbacks: not ours
            return None
        return replace(_base(update, msg.chat, query.from_user, me), payload=query.data), None
    message = update.message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    if message.chat.type == Chat.CHANNEL:
        return None
    if is_group(message.chat) and not _addressed_to_bot(message, me):
        return None
    incoming = _base(update, message.chat, message.from_user, me)
    doc = message.document
    if doc is not None:
        ref = FileRef(
            file_id=doc.file_id,
            name=doc.file_name or "file",
            mime=doc.mime_type or "application/octet-stream",
            size=doc.file_size,
        )
        return replace(incoming, text=message.caption), ref
    if message.text is None:
        return None  # stickers, photos, voice…: nothing the dialogs understand yet
    text = message.text
    if is_group(message.chat) and text.startswith("/"):
        # "/help@tocns_bot args" → "/help args": the router reads commands without the mention.
        head, _, rest = text.partition(" ")
        text = (head.split("@", 1)[0] + (" " + rest if rest else "")).strip()
    return replace(incoming, text=text), None


def with_file(incoming: Incoming, ref: FileRef, data: bytes) -> Incoming:
    return replace(incoming, file=IncomingFile(ref.name, ref.mime, data))
