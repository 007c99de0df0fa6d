"""Zalo Bot Platform errors: the documented error table and what a failed send becomes."""

from __future__ import annotations

import logging

from bot.kernel import DeliveryError

log = logging.getLogger("tocns.zalo_bot")


# The documented error table (bot.zapps.me/docs, "Bảng mã lỗi"), and what a failed send becomes.
# 403 is documented as an internal server error: retried, never taken for "the user blocked us".
# Nothing in the table says "blocked"; the platform documents no such signal.
BOT_ERRORS: dict[int, str] = {
    400: "permanent",  # bad request: wrong path / API name / parameters — retrying cannot help
    401: "token",  # token expired or invalid — the operator must fix it; keep the push
    403: "retry",  # "Internal server error"
    404: "permanent",  # not found / invalid request
    408: "retry",  # request timeout
    429: "rate",  # quota exceeded
}
TOKEN_RETRY_AFTER = 600.0
RATE_RETRY_AFTER = 30.0


class ZaloBotError(Exception):
    def __init__(self, status: int, code: int | None, description: str) -> None:
        super().__init__(f"HTTP {status} error_code={code}: {description[:120]}")
        self.status = status
        self.code = code
        self.description = description


def delivery_error(exc: ZaloBotError) -> DeliveryError:
    """Every documented code mapped (BOT_ERRORS); anything else is retried with backoff."""
    code = exc.code if exc.code is not None else exc.status
    kind = BOT_ERRORS.get(code) or BOT_ERRORS.get(exc.status)
    if kind == "permanent":
        return DeliveryError(str(exc), permanent=True)
    if kind == "token":
        log.error("zalo_bot: the API refused the token (401); check TOCNS_ZALO_BOT_TOKEN")
        return DeliveryError(str(exc), retry_after=TOKEN_RETRY_AFTER)
    if kind == "rate":
        return DeliveryError(str(exc), retry_after=RATE_RETRY_AFTER)
    return DeliveryError(str(exc))
