"""The FAQ index kept on disk between starts (services/faq/cache.py): read back instead of built,
the same answers as a fresh build, never a stale or broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.kernel import ROOT
from handlers import faq as faq_handlers
from services.faq import cache
from services.faq.index import FaqIndex

KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = [
    "lam giay khai sinh online the nao",
    "mat cccd lam lai o dau",
    "con toi 10 tuoi lam can cuoc dc ko",
    "hom nay troi dep qua",
]


class Builds:
    """`build` for load_or_build, counting how often it really built."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> FaqIndex:
        self.count += 1
        return FaqIndex.from_dirs([KNOWLEDGE])


def answers(index: FaqIndex) -> list[tuple[str, list[tuple[str, float]]]]:
    out: list[tuple[str, list[tuple[str, float]]]] = []
    for q in QUESTIONS:
        m = index.search(q, limit=3)
        out.append((m.verdict.value, [(h.entry.id, round(h.score, 9)) for h in m.hits]))
    return out


def test_second_start_reads_the_index_back_and_answers_the_same(tmp_path: Path) -> None:
    stamp = ("knowledge", 1)
    first = Builds()
    built = cache.load_or_build(tmp_path, stamp, first)
    assert first.count == 1
    assert [p.name for p in tmp_path.glob("faq-index-*.pickle")] == [cache.key_for(stamp)]

    again = Builds()
    read = cache.load_or_build(tmp_path, stamp, again)
    assert again.count == 0, "the kept index was built again"
    assert read is not built
    assert answers(read) == answers(built)


def test_a_change_builds_anew_and_drops_the_old_file(tmp_path: Path) -> None:
    cache.load_or_build(tmp_path, ("v", 1), Builds())
    builds = Builds()
    cache.load_or_build(tmp_path, ("v", 2), builds)
    assert builds.count == 1
    assert [p.name for p in tmp_path.glob("faq-index-*.pickle")] == [cache.key_for(("v", 2))]


@pytest.mark.parametrize("content", [b"", b"not a pickle", b"\x80\x05\x95garbage"])
def test_a_broken_file_is_the_same_as_none(tmp_path: Path, content: bytes) -> None:
    stamp = ("broken",)
    (tmp_path / cache.key_for(stamp)).write_bytes(content)
    builds = Builds()
    index = cache.load_or_build(tmp_path, stamp, builds)
    assert builds.count == 1
    assert answers(index)[0][1][0][0] == "dang-ky-khai-sinh"
    again = Builds()
    cache.load_or_build(tmp_path, stamp, again)
    assert again.count == 0, "the rebuilt index was not kept"


def test_an_unwritable_place_runs_without_the_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory should be")
    builds = Builds()
    index = cache.load_or_build(blocker, ("x",), builds)
    assert builds.count == 1 and len(index.entries) > 0


def test_the_app_keeps_its_index_where_the_config_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(environ={"TOCNS_CACHE_DIR": str(tmp_path / "kept")})
    assert settings.app.cache_dir == str(tmp_path / "kept")
    monkeypatch.setattr(faq_handlers, "_CACHE", {})
    index = faq_handlers.build_index(settings.extra, KNOWLEDGE, cache_dir=Path(settings.app.cache_dir))
    kept = list((tmp_path / "kept").glob("faq-index-*.pickle"))
    assert len(kept) == 1
    # Another process (the in-memory cache empty): read from the file, not built.
    monkeypatch.setattr(faq_handlers, "_CACHE", {})
    monkeypatch.setattr(FaqIndex, "from_dirs", classmethod(lambda *a, **k: pytest.fail("built again")))
    again = faq_handlers.build_index(settings.extra, KNOWLEDGE, cache_dir=Path(settings.app.cache_dir))
    assert answers(again) == answers(index)
