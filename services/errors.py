"""Domain errors as types. Each carries a catalog key and parameters; dialogs turn it into a
polite sentence in the person's language that says what to fix."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base for every expected, user-explainable failure."""

    key = "errors.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}")


class PermissionDenied(DomainError):
    key = "errors.permission_denied"


class NotFound(DomainError):
    key = "errors.not_found"


class InvalidInput(DomainError):
    key = "errors.invalid_input"


class Conflict(DomainError):
    key = "errors.conflict"
