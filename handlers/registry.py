"""The app's router: every feature's router, in one explicit list (a newcomer reads it here)."""

from __future__ import annotations

from handlers import (
    baocao,
    basic,
    dossier,
    faq,
    ghi,
    ghi_edit,
    handoff,
    handoff_desk,
    handoff_outside,
    kpi,
    link,
    nhap,
    onboarding,
    revoke,
    targets,
    team,
    tracuu,
    units_admin,
    web,
)
from handlers.router import Router

FEATURES = [
    basic.router,
    onboarding.router,
    team.router,
    units_admin.router,
    link.router,
    revoke.router,
    ghi.router,
    ghi_edit.router,
    dossier.router,
    tracuu.router,
    baocao.router,
    nhap.router,
    kpi.router,
    targets.router,
    faq.router,
    handoff.router,
    handoff_desk.router,
    handoff_outside.router,
    web.router,
]


def build_router() -> Router:
    router = Router()
    for feature in FEATURES:
        router.include(feature)
    return router
