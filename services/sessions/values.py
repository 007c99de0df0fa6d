"""Help sessions: the vocabulary (activity, place, outcome), the `logging:` settings and the
values that cross into the dialogs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MAX_CITIZENS = 500
EDIT_WINDOW = timedelta(hours=24)


class LoggingConfig(BaseModel):
    """`logging:` section of config.yaml."""

    model_config = ConfigDict(extra="forbid")
    backdate_days: int = Field(default=14, ge=0, le=90)


def config_from(raw: object) -> LoggingConfig:
    return LoggingConfig.model_validate(raw or {})


class Activity(StrEnum):
    DVC = "dvc"  # online public service
    VNEID = "vneid"
    PAYMENT = "payment"  # online payment / e-wallet / bank app
    SIGNATURE = "signature"  # digital signature
    APP = "app"  # installing an app
    SAFETY = "safety"  # staying safe online
    SHOPPING = "shopping"
    OTHER = "other"


class Place(StrEnum):
    HOME = "home"
    COUNTER = "counter"
    PHONE = "phone"
    MOBILE = "mobile"  # mobile session (lưu động)
    ONLINE = "online"


class Outcome(StrEnum):
    DONE = "done"
    FOLLOWUP = "followup"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SessionDraft:
    activity: Activity
    place: Place
    citizens: int = 1
    result: Outcome = Outcome.DONE
    day: date | None = None  # None: now
    dossier_code: str | None = None
    procedure: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    occurred_at: datetime
    activity: Activity
    place: Place
    citizens: int
    result: Outcome
    dossier_code: str | None
    unit_id: int


@dataclass(frozen=True, slots=True)
class Tally:
    sessions: int
    citizens: int


@dataclass(frozen=True, slots=True)
class WeekSummary:
    week_start: date
    sessions: int
    citizens: int
    by_activity: dict[Activity, int]
