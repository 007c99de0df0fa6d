"""What Zalo OA Open API error codes mean for a send (docs/zalo.md has the sources).

OA errors arrive as HTTP 200 with `error` ≠ 0 in the body; the code is read from the body on
every status, HTTP 4xx/5xx included, and only when the body carries none does the HTTP status
decide. Codes not listed are retried with backoff until the outbox gives up (fail safe: a
message is never dropped on a guess)."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    REFRESH = "refresh"  # refresh the access token, retry the call once
    UNREACHABLE = "unreachable"  # this person cannot be messaged now: never retried
    PERMANENT = "permanent"  # the request itself is wrong: retrying cannot help
    BACKOFF = "backoff"  # rate limit / quota: retry later, after a pause
    BILLING = "billing"  # the OA's paid package / Zalo Cloud wallet: not retried, admins alerted
    RETRY = "retry"  # anything else: retry with the outbox's backoff


CODES: dict[int, Action] = {
    -216: Action.REFRESH,  # access token invalid
    -220: Action.REFRESH,  # access token expired
    -124: Action.REFRESH,  # access token invalid/expired (OAuth-side code)
    -213: Action.UNREACHABLE,  # the user has not followed the OA
    -227: Action.UNREACHABLE,  # the user's account is locked or inactive
    -230: Action.UNREACHABLE,  # the user has not interacted with the OA in the last 7 days
    -232: Action.UNREACHABLE,  # the user has not interacted with the OA (no window open)
    -201: Action.PERMANENT,  # invalid parameters
    -210: Action.PERMANENT,  # a parameter exceeds its allowed limit
    -32: Action.BACKOFF,  # too many requests (rate limit)
    -211: Action.BACKOFF,  # out of quota
    -320: Action.BILLING,  # the app must be linked to a Zalo Cloud Account to use paid features
    -321: Action.BILLING,  # the Zalo Cloud Account's balance is exhausted
}
BACKOFF_SECONDS = {-32: 60.0, -211: 3600.0}


def action_for(code: int | None, status: int) -> Action:
    if code is not None and code != 0:
        return CODES.get(code, Action.RETRY)
    if status == 429:
        return Action.BACKOFF
    return Action.RETRY


def backoff_for(code: int | None, retry_after: float | None) -> float:
    if retry_after:
        return retry_after
    return BACKOFF_SECONDS.get(code or 0, 30.0)
