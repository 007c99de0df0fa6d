"""Hand-off to a human: tickets from citizens to their commune's volunteers, relayed through the
bot (neither side sees the other's account), claimed first-wins, closed, rated, escalated.

Working hours and the claim timeout come from the `handoff` config section (`HandoffSettings`).
Modules: hours (settings, working time), routing (communes, who handles them), tickets (the
ticket's life), relay (messages), escalation.
"""

from __future__ import annotations

from services.handoff.escalation import (
    Audience,
    counts,
    due_for_escalation,
    mark_escalated,
    new_ticket_audience,
    notified_of,
)
from services.handoff.hours import (
    HandoffSettings,
    WorkingHours,
    is_open,
    next_opening,
    settings_from,
    working_minutes,
)
from services.handoff.relay import (
    Newer,
    RelayedMessage,
    looks_like_id_or_phone,
    newer_elsewhere,
    newer_from_citizens,
    relay,
    take_queued,
)
from services.handoff.routing import (
    can_handle,
    commune,
    find_communes,
    helper_unit,
    helpers_of,
    last_commune,
    nearest_communes,
    officers_of,
)
from services.handoff.tickets import (
    Status,
    TicketView,
    active_ticket,
    cancel,
    claim,
    close,
    create,
    finish,
    get,
    involving,
    owned_by,
    rate,
    release,
    release_unheld,
    waiting_for,
)

__all__ = [
    "Audience",
    "HandoffSettings",
    "Newer",
    "RelayedMessage",
    "Status",
    "TicketView",
    "WorkingHours",
    "active_ticket",
    "can_handle",
    "cancel",
    "claim",
    "close",
    "commune",
    "counts",
    "create",
    "due_for_escalation",
    "find_communes",
    "finish",
    "get",
    "helper_unit",
    "helpers_of",
    "involving",
    "is_open",
    "last_commune",
    "looks_like_id_or_phone",
    "mark_escalated",
    "nearest_communes",
    "new_ticket_audience",
    "newer_elsewhere",
    "newer_from_citizens",
    "next_opening",
    "notified_of",
    "officers_of",
    "owned_by",
    "rate",
    "relay",
    "release",
    "release_unheld",
    "settings_from",
    "take_queued",
    "waiting_for",
    "working_minutes",
]
