"""Logging set-up: one line per event, text or JSON; never message text or phone numbers."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterable, Mapping

from bot.config import LogSettings
from services import privacy

# A Bot API token (Telegram, Zalo Bot Platform): digits, a colon, a long key.
_BOT_TOKEN = re.compile(r"\d{5,15}:[A-Za-z0-9_-]{20,}")
# What people typed or are called, in the JSON / repr dumps libraries log at DEBUG.
_PERSONAL_FIELDS = re.compile(
    r"""(["']?(?:text|caption|first_name|last_name|username|display_name|question)["']?\s*[:=]\s*)"""
    r"""(["'])(?:\\.|(?!\2).)*\2""",
    re.DOTALL,
)
_FIELD_NAMES = ("text", "caption", "first_name", "last_name", "username", "display_name", "question")
_SECRET_ENV_WORDS = ("TOKEN", "SECRET", "KEY", "PASSWORD")


def secrets_from(environ: Mapping[str, str]) -> list[str]:
    """Every secret value the installation was given (TOCNS_*TOKEN/SECRET/KEY/PASSWORD)."""
    found = [
        v
        for k, v in environ.items()
        if k.startswith("TOCNS_") and any(w in k for w in _SECRET_ENV_WORDS) and len(v) >= 6
    ]
    url = environ.get("TOCNS_DATABASE_URL", "")
    if m := re.match(r"^[\w+]+://[^:/@]*:([^@]+)@", url):
        found.append(m.group(1))
    return sorted(set(found), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """A log line without secrets, tokens, message texts or personal data."""
    for secret in secrets:
        text = text.replace(secret, "***")
    # Each pattern only where it can match (a token has a colon, a field its name): a log line
    # per update paid ~50 µs for scans that found nothing.
    if ":" in text:
        text = _BOT_TOKEN.sub("<token>", text)
    if any(field in text for field in _FIELD_NAMES):
        text = _PERSONAL_FIELDS.sub(lambda m: f"{m.group(1)}{m.group(2)}…{m.group(2)}", text)
    return privacy.redact(text)


class RedactingFilter(logging.Filter):
    """On the handler, so every logger and every level (DEBUG included) passes through it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "t": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup(settings: LogSettings, stream: object = None, environ: Mapping[str, str] | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.addFilter(RedactingFilter(secrets_from(os.environ if environ is None else environ)))
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # httpx logs every request URL, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # PTB warnings become visible log lines
    warnings.simplefilter("default")
