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
from db.models.handoff import FaqFeedback, FaqQuestion, Ticket, TicketMessage
from db.models.kpi import JobRun, KpiTarget
from db.models.lease import Lease
from db.models.onboarding import Invite, JoinRequest, LinkCode
from db.models.ops import Incident, JobAttempt
from db.models.web import WebLink, WebSession
from db.models.work import Dossier, DossierEvent, DossierSubscription, HelpSession, WeeklyReport
from db.models.zalo import FileLink, ZaloInbound, ZaloOAToken

__all__ = [
    "AuditLog",
    "Base",
    "ChannelAccount",
    "DialogState",
    "Dossier",
    "DossierEvent",
    "DossierSubscription",
    "FaqFeedback",
    "FaqQuestion",
    "FileLink",
    "HelpSession",
    "Incident",
    "Invite",
    "JobAttempt",
    "JobRun",
    "JoinRequest",
    "KpiTarget",
    "Lease",
    "LinkCode",
    "Membership",
    "OutboxMessage",
    "Person",
    "ProcessedUpdate",
    "Ticket",
    "TicketMessage",
    "Unit",
    "WebLink",
    "WebSession",
    "WeeklyReport",
    "ZaloInbound",
    "ZaloOAToken",
]
