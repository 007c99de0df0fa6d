"""The app's router: every feature's router, in one explicit list (a newcomer reads it here)."""

from __future__ import annotations

from handlers import basic
from handlers.router import Router

FEATURES = [
    basic.router,
]


def build_router() -> Router:
    router = Router()
    for feature in FEATURES:
        router.include(feature)
    return router
