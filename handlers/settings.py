"""The feature sections of config.yaml as one typed, frozen value, validated once at start-up
(bot/config.py) and handed to every dialog step as `ctx.settings` and to every job."""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.faq import FaqConfig
from services.handoff.hours import HandoffSettings
from services.kpi.settings import KpiSettings, settings_from
from services.sessions.values import LoggingConfig


@dataclass(frozen=True, slots=True)
class FeatureSettings:
    kpi: KpiSettings = field(default_factory=lambda: settings_from(None))
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    faq: FaqConfig = field(default_factory=FaqConfig)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
