"""All mapped tables. Each feature keeps its own module; import it here so Alembic sees it."""

from db.base import Base
from db.models.core import (
    AuditLog,
    ChannelAccount,
    DialogState,
    Membership,
    OutboxMessage,
    Person,
    ProcessedUpdate,
    Unit,
)
from db.models.work import Dossier, DossierEvent, DossierSubscription, HelpSession, WeeklyReport

__all__ = [
    "AuditLog",
    "Base",
    "ChannelAccount",
    "DialogState",
    "Dossier",
    "DossierEvent",
    "DossierSubscription",
    "HelpSession",
    "Membership",
    "OutboxMessage",
    "Person",
    "ProcessedUpdate",
    "Unit",
    "WeeklyReport",
]
