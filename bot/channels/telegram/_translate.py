"""Telegram Update → channel-neutral Incoming. Pure translation: no feature logic here."""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import Chat, Message, Update, User

from handlers.core import ChatType, Incoming, IncomingFile, MessageKind

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


def message_kind(message: Message) -> MessageKind:
    """What a phone sent. Order matters: a GIF carries `animation` and `document`, a venue carries
    `venue` and `location`."""
    checks: tuple[tuple[object, MessageKind], ...] = (
        (message.animation, MessageKind.ANIMATION),
        (message.document, MessageKind.DOCUMENT),
        (message.photo, MessageKind.PHOTO),
        (message.video_note, MessageKind.VIDEO_NOTE),
        (message.video, MessageKind.VIDEO),
        (message.voice, MessageKind.VOICE),
        (message.audio, MessageKind.AUDIO),
        (message.sticker, MessageKind.STICKER),
        (message.venue, MessageKind.VENUE),
        (message.location, MessageKind.LOCATION),
        (message.contact, MessageKind.CONTACT),
        (message.poll, MessageKind.POLL),
    )
    for present, kind in checks:
        if present:
            return kind
    return MessageKind.TEXT if message.text is not None else MessageKind.OTHER


def _file_ref(message: Message, kind: MessageKind) -> FileRef | None:
    """Documents and photos are fetched (an export to import, papers for a helper); the rest are
    known by their kind only."""
    if kind is MessageKind.DOCUMENT and message.document is not None:
        doc = message.document
        return FileRef(
            file_id=doc.file_id,
            name=doc.file_name or "file",
            mime=doc.mime_type or "application/octet-stream",
            size=doc.file_size,
        )
    if kind is MessageKind.PHOTO and message.photo:
        biggest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        return FileRef(file_id=biggest.file_id, name="photo.jpg", mime="image/jpeg", size=biggest.file_size)
    return None


def ignored_reason(update: Update, me: Me) -> str:
    """Why to_incoming returned None, for the log line every unused update gets."""
    if update.callback_query is not None:
        return "callback_without_message_or_data"
    message = update.message or update.edited_message
    if message is None:
        return "update_type:" + next(
            (k for k, v in update.to_dict().items() if k != "update_id" and v is not None), "empty"
        )
    if message.from_user is None or message.from_user.is_bot:
        return "from_bot_or_anonymous"
    if message.chat.type == Chat.CHANNEL:
        return "channel_post"
    return "group_message_not_addressed_to_bot"


def to_incoming(update: Update, me: Me) -> tuple[Incoming, FileRef | None] | None:
    """The Incoming for an update (plus a file to fetch), or None when the bot should not react."""
    query = update.callback_query
    if query is not None:
        msg = query.message
        if msg is None or query.data is None:  # inline-mode or game callbacks: not ours
            return None
        return replace(_base(update, msg.chat, query.from_user, me), payload=query.data), None
    edited = update.message is None and update.edited_message is not None
    message = update.message or update.edited_message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    if message.chat.type == Chat.CHANNEL:
        return None
    if is_group(message.chat) and not _addressed_to_bot(message, me):
        return None
    incoming = replace(_base(update, message.chat, message.from_user, me), edited=edited)
    kind = message_kind(message)
    # A caption is text: "/ghi dvc nha 2" under a photo is the same command as in a message.
    text = message.text if message.text is not None else message.caption
    if text is not None and is_group(message.chat) and text.startswith("/"):
        # "/help@tocns_bot args" → "/help args": the router reads commands without the mention.
        head, _, rest = text.partition(" ")
        text = (head.split("@", 1)[0] + (" " + rest if rest else "")).strip()
    incoming = replace(incoming, text=text, kind=kind)
    if edited:
        return incoming, None  # the edit is answered at once; its file is never fetched again
    return incoming, _file_ref(message, kind)


def thread_of(update: Update) -> int | None:
    """The forum topic an update came from: answers go back to that topic, not to General."""
    message = update.effective_message
    if message is not None and message.is_topic_message and message.message_thread_id:
        return message.message_thread_id
    return None


def with_file(incoming: Incoming, ref: FileRef, data: bytes) -> Incoming:
    return replace(incoming, file=IncomingFile(ref.name, ref.mime, data))
