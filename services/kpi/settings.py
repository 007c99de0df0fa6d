"""KPI settings: the indicators declared in config (`kpi:` section), the lagging rules and the
job schedules; validated once, frozen."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.calendar import Calendar, Convention, parse_deadline, parse_weekday
from services.errors import InvalidInput

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorDef(_Model):
    """One indicator: numerator ÷ denominator over named measures (see docs/kpi.md)."""

    id: str
    name_vi: str
    name_en: str
    numerator: str
    denominator: str | None = None  # a measure, or "on_time_denominator" (the setting decides)
    higher_is_better: bool = True
    unit: Literal["percent", "count", "score"] = "percent"

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


DEFAULT_INDICATORS: tuple[IndicatorDef, ...] = (
    IndicatorDef(
        id="online_rate",
        name_vi="Tỷ lệ hồ sơ trực tuyến",
        name_en="Online dossier rate",
        numerator="received_online",
        denominator="received",
    ),
    IndicatorDef(
        id="full_online_rate",
        name_vi="Tỷ lệ hồ sơ toàn trình",
        name_en="Fully-online rate",
        numerator="received_full_online",
        denominator="received",
    ),
    IndicatorDef(
        id="on_time_rate",
        name_vi="Tỷ lệ giải quyết đúng hạn",
        name_en="On-time resolution rate",
        numerator="resolved_on_time",
        denominator="on_time_denominator",
    ),
    IndicatorDef(
        id="service_coverage",
        name_vi="Tỷ lệ dịch vụ có phát sinh hồ sơ trực tuyến",
        name_en="Online-service coverage",
        numerator="services_with_online",
        denominator="services_offered",
    ),
    IndicatorDef(
        id="help_sessions",
        name_vi="Số buổi hỗ trợ",
        name_en="Help sessions",
        numerator="help_sessions",
        unit="count",
    ),
    IndicatorDef(
        id="citizens_helped",
        name_vi="Số lượt người dân được hỗ trợ",
        name_en="Citizens helped",
        numerator="citizens_helped",
        unit="count",
    ),
    IndicatorDef(
        id="active_volunteers",
        name_vi="Tỷ lệ thành viên tổ hoạt động",
        name_en="Active volunteers",
        numerator="active_volunteers",
        denominator="volunteers",
    ),
    IndicatorDef(
        id="report_on_time",
        name_vi="Báo cáo tuần đúng hạn",
        name_en="Weekly reports on time",
        numerator="reports_on_time",
        denominator="reports_expected",
    ),
    IndicatorDef(
        id="satisfaction",
        # The 1–5 stars citizens give the team's help (/hotro) — not Decision 766's satisfaction.
        name_vi="Mức hài lòng với hỗ trợ của Tổ (1–5 sao)",
        name_en="Satisfaction with the team's help (1–5 stars)",
        numerator="rating_sum",
        denominator="rating_count",
        unit="score",
    ),
)

DEFAULT_SCHEDULES = {
    "weekly_digest": "30 7 * * mon",
    "lagging_reminders": "0 8 * * mon",
    "report_reminder": "0 15 * * fri",
    "due_alert": "0 7 * * *",
    "quarter_end": "30 8 * * *",
}


class Rules(_Model):
    below_target: list[str] = Field(
        default_factory=lambda: ["online_rate", "full_online_rate", "on_time_rate"]
    )
    no_online: bool = True
    report_missing: bool = True
    escalate_after_weeks: int = Field(3, ge=0)  # 0 = never escalate


class KpiSettings(_Model):
    indicators: tuple[IndicatorDef, ...] = DEFAULT_INDICATORS
    # On-time rate: resolved on time ÷ resolved (with a due date) | ÷ (resolved + overdue open) |
    # decision_766: (resolved on time + open and still in time) ÷ (resolved + open), docs/kpi.md.
    on_time_denominator: Literal["resolved", "resolved_and_overdue", "decision_766"] = "resolved"
    # Online rate over every dossier received, or only over dossiers of the procedures the province
    # offers online (`online_procedures`: procedure codes or names as recorded).
    online_rate_scope: Literal["all_dossiers", "online_procedures"] = "all_dossiers"
    online_procedures: tuple[str, ...] = ()
    tolerance: float = Field(5.0, ge=0)  # percentage points (percent indicators)
    tolerance_relative: float = Field(0.1, ge=0)  # share of the target (count / score indicators)
    # Online services a commune offers when it has never reported the number; none by default (the
    # commune's coverage is then "chưa có số liệu").
    services_offered_default: int | None = Field(None, ge=1)
    # The reporting calendar (services/calendar.py, docs/kpi.md): which week a commune reports,
    # the week's last day, and the deadline (weekday and local time; in the reported week for
    # current_week, in the following week for previous_week).
    report_convention: Convention = "current_week"
    week_ends: str = "sun"
    report_deadline: str = "fri 17:00"
    rules: Rules = Rules()
    # Suggestion text per rule or indicator, overriding the catalog: {"online_rate": {"vi": …, "en": …}}
    suggestions: dict[str, dict[str, str]] = Field(default_factory=dict)
    schedules: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SCHEDULES))
    grace_minutes: int = Field(12 * 60, ge=0)  # a missed run is made up at start-up within this window
    quarter_end_days_before: int = Field(14, ge=1)
    top: int = Field(3, ge=1)
    # A rate is ranked (/xephang, the digest) only on at least this many dossiers (its denominator).
    rank_min_denominator: int = Field(5, ge=0)
    due_alert_codes: int = Field(5, ge=0)
    chart_indicator: str = "online_rate"

    @field_validator("report_deadline")
    @classmethod
    def _deadline(cls, value: str) -> str:
        parse_deadline(value)
        return value

    @model_validator(mode="after")
    def _scope(self) -> KpiSettings:
        if self.online_rate_scope == "online_procedures" and not self.online_procedures:
            raise ValueError("online_rate_scope: online_procedures needs the list `online_procedures`")
        if self.report_convention == "previous_week":
            self._jobs_after_deadline()
        return self

    def _jobs_after_deadline(self) -> None:
        """Under previous_week the report is due in the following week: a Monday digest or reminder
        that runs before the deadline would call every commune late. Refuse such a schedule."""
        week_start = (parse_weekday(self.week_ends) + 1) % 7
        day, at = parse_deadline(self.report_deadline)

        def offset(weekday: int, hour: int, minute: int) -> int:
            return ((weekday - week_start) % 7) * 1440 + hour * 60 + minute

        due = offset(day, at.hour, at.minute)
        for job in ("weekly_digest", "lagging_reminders"):
            fields = self.schedules.get(job, "").split()
            if len(fields) != 5 or not (fields[0].isdigit() and fields[1].isdigit()):
                continue  # a range or list of times: not checked
            dow = fields[4].lower()
            if dow.isdigit():
                weekday = int(dow) % 7  # APScheduler reads crontab days as 0 = Monday
            elif dow in WEEKDAYS:
                weekday = WEEKDAYS.index(dow)
            else:
                continue
            if offset(weekday, int(fields[1]), int(fields[0])) < due:
                raise ValueError(
                    f"schedules.{job}: runs before the report deadline ({self.report_deadline}) under "
                    "report_convention previous_week; schedule it after the deadline"
                )

    @field_validator("week_ends")
    @classmethod
    def _week_ends(cls, value: str) -> str:
        parse_weekday(value)
        return value

    def calendar(self, tz: ZoneInfo | None = None) -> Calendar:
        return Calendar.make(self.report_convention, self.week_ends, self.report_deadline, tz or TZ)

    @property
    def week_starts(self) -> int:
        return (parse_weekday(self.week_ends) + 1) % 7

    def indicator(self, indicator_id: str) -> IndicatorDef:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise InvalidInput("kpi.errors.unknown_indicator", indicator=indicator_id)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]


def settings_from(config: dict[str, Any] | None) -> KpiSettings:
    """The `kpi:` section of config.yaml (defaults when absent); raises ValueError naming the key."""
    raw = (config or {}).get("kpi") or {}
    schedules = {**DEFAULT_SCHEDULES, **(raw.get("schedules") or {})}
    return KpiSettings.model_validate({**raw, "schedules": schedules})
