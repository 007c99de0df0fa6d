"""Roles, actions and scope: who may do what, where. Every service checks through here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.errors import PermissionDenied


class Role(StrEnum):
    CITIZEN = "citizen"
    VOLUNTEER = "volunteer"
    TEAM_LEADER = "team_leader"
    OFFICER = "officer"
    LEADER = "leader"
    ADMIN = "admin"


class Action(StrEnum):
    LOG_SESSION = "log_session"  # record a help session for a team
    RECORD_DOSSIER = "record_dossier"  # record a citizen's submission
    UPDATE_DOSSIER_STATUS = "update_dossier_status"
    SUBMIT_WEEKLY_REPORT = "submit_weekly_report"
    IMPORT_DOSSIERS = "import_dossiers"
    VIEW_TEAM = "view_team"  # list members of a team
    MANAGE_TEAM = "manage_team"  # remove members, hand over team leadership
    MANAGE_UNITS = "manage_units"  # create / rename / close teams
    INVITE_VOLUNTEER = "invite_volunteer"
    INVITE_STAFF = "invite_staff"  # invite officers, leaders, team leaders
    VIEW_KPI = "view_kpi"
    SET_TARGETS = "set_targets"
    RECEIVE_DIGEST = "receive_digest"
    HANDLE_TICKETS = "handle_tickets"
    ADMINISTER = "administer"  # grant roles, import unit trees, see FAQ feedback


# Which roles may perform each action, within the unit they hold the role for (and below).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.LOG_SESSION: frozenset({Role.VOLUNTEER, Role.TEAM_LEADER}),
    Action.RECORD_DOSSIER: frozenset({Role.VOLUNTEER, Role.TEAM_LEADER, Role.OFFICER}),
    Action.UPDATE_DOSSIER_STATUS: frozenset({Role.OFFICER}),
    Action.SUBMIT_WEEKLY_REPORT: frozenset({Role.OFFICER}),
    Action.IMPORT_DOSSIERS: frozenset({Role.OFFICER, Role.ADMIN}),
    Action.VIEW_TEAM: frozenset({Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Action.MANAGE_TEAM: frozenset({Role.TEAM_LEADER, Role.OFFICER, Role.ADMIN}),
    Action.MANAGE_UNITS: frozenset({Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Action.INVITE_VOLUNTEER: frozenset({Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Action.INVITE_STAFF: frozenset({Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Action.VIEW_KPI: frozenset({Role.TEAM_LEADER, Role.OFFICER, Role.LEADER, Role.ADMIN}),
    Action.SET_TARGETS: frozenset({Role.LEADER, Role.ADMIN}),
    Action.RECEIVE_DIGEST: frozenset({Role.LEADER}),
    Action.HANDLE_TICKETS: frozenset({Role.VOLUNTEER, Role.TEAM_LEADER, Role.OFFICER}),
    Action.ADMINISTER: frozenset({Role.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """One role held for one unit subtree; unit_path None means the whole installation."""

    role: Role
    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    unit_path: str | None


@dataclass(frozen=True, slots=True)
class Actor:
    """The acting person with every role they hold; passed to every service call."""

    person_id: int
    display_name: str
    locale: str | None
    grants: tuple[Grant, ...] = ()

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(g.role for g in self.grants) | {Role.CITIZEN}

    def has_role(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    def grants_for(self, action: Action) -> tuple[Grant, ...]:
        allowed = PERMISSIONS[action]
        return tuple(g for g in self.grants if g.role in allowed)

    def can(self, action: Action, unit_path: str | None = None) -> bool:
        """True if some grant allows `action` on the unit at `unit_path` (None: anywhere)."""
        for grant in self.grants_for(action):
            if unit_path is None or grant.unit_path is None:
                return True
            if unit_path.startswith(grant.unit_path):
                return True
        return False

    def require(self, action: Action, unit_path: str | None = None) -> None:
        if not self.can(action, unit_path):
            raise PermissionDenied(action=action.value)

    def require_in_scope(self, action: Action, unit_path: str, key: str, **params: object) -> None:
        """`require`, but someone who may do `action` for other units is refused with `key` («outside
        your scope»), not with who else could do it."""
        if self.grants_for(action) and not self.can(action, unit_path):
            raise PermissionDenied(key, action=action.value, **params)
        self.require(action, unit_path)

    def scope_paths(self, action: Action) -> tuple[str, ...] | None:
        """Subtree paths where `action` is allowed; None means everywhere, () nowhere."""
        paths: list[str] = []
        for grant in self.grants_for(action):
            if grant.unit_path is None:
                return None
            paths.append(grant.unit_path)
        return tuple(paths)


def in_scope(path: str, scopes: Iterable[str] | None) -> bool:
    return scopes is None or any(path.startswith(s) for s in scopes)
