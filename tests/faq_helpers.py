"""A knowledge-base entry for the FAQ matcher's small synthetic tests: only its words matter."""

from __future__ import annotations

from datetime import date

from services.faq.entries import Category, FaqEntry, Where


def entry(entry_id: str, title: str, *synonyms: str) -> FaqEntry:
    return FaqEntry(
        id=entry_id,
        title=title,
        title_en=entry_id,
        synonyms=synonyms or (title,),
        audience="Người dân",
        where=(Where.PORTAL,),
        summary=title,
        steps=("Làm theo hướng dẫn.",),
        portal_url="https://dichvucong.gov.vn",
        last_reviewed=date(2026, 11, 1),
        category=Category.PROCEDURE,
    )
