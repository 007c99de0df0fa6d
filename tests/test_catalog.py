"""The catalog: every key in both languages, same placeholders, and every key used exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from handlers.i18n import Catalog

ROOT = Path(__file__).resolve().parent.parent
KEY_USE = re.compile(r"""(?:\.t|\.say|\.text\([^,]+,)\(\s*f?["']([a-z_]+\.[a-z0-9_.]+)["']""")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_languages_have_the_same_keys_and_placeholders() -> None:
    """The same keys, but a language's singulars (`<key>_one`, English): each of a key that exists,
    with the placeholders of that key but its count."""
    cat = Catalog.load()
    vi, en = cat.messages["vi"], cat.messages["en"]
    singulars = {k for k in en if k.endswith("_one")}
    en_keys = set(en) - singulars
    assert set(vi) == en_keys, f"missing in en: {set(vi) - en_keys}; missing in vi: {en_keys - set(vi)}"
    for key in vi:
        assert placeholders(vi[key]) == placeholders(en[key]), key
    for key in singulars:
        plural = key.removesuffix("_one")
        assert plural in en and placeholders(en[key]) <= placeholders(en[plural]), key


def test_a_count_of_one_takes_the_singular() -> None:
    """«Same as last: App · at home · 1 people»."""
    cat = Catalog.load()
    assert cat.text("en", "ghi.people", n=1) == "1 person"
    assert cat.text("en", "ghi.people", n=2) == "2 people"
    assert cat.text("vi", "ghi.people", n=1) == "1 người"  # Vietnamese has one form
    assert cat.text("en", "reminders.due_overdue", count=1) == "1 dossier overdue"
    assert cat.text("en", "team.members_title", team="Tổ 1", count=1) == "Tổ 1 — 1 member:"


def test_vietnamese_has_diacritics() -> None:
    cat = Catalog.load()
    texts = " ".join(cat.messages["vi"].values())
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", texts)


def test_every_literal_key_used_in_code_exists() -> None:
    cat = Catalog.load()
    missing = []
    for path in [*ROOT.glob("handlers/*.py"), *ROOT.glob("bot/*.py"), *ROOT.glob("bot/**/*.py")]:
        for key in re.findall(r"""["']((?:core|errors|basic|help)\.[a-z0-9_.]+)["']""", path.read_text()):
            if not cat.has(key) and not key.endswith("."):
                missing.append(f"{path.name}: {key}")
    assert not missing, missing


def test_an_edited_catalog_is_read_again_and_apps_do_not_share_tables(tmp_path: Path) -> None:
    """Catalog.load reads the files once per process while they stay the same (every app build and
    every `tocns` command loads it); an edited file is read again."""
    for lang in ("vi", "en"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "core.yaml").write_text("hello: Xin chào\n", encoding="utf-8")
    first = Catalog.load(tmp_path)
    assert first.text("vi", "core.hello") == "Xin chào"
    first.messages["vi"]["core.hello"] = "changed by one app"
    assert Catalog.load(tmp_path).text("vi", "core.hello") == "Xin chào"
    (tmp_path / "vi" / "core.yaml").write_text("hello: Chào anh/chị\n", encoding="utf-8")
    assert Catalog.load(tmp_path).text("vi", "core.hello") == "Chào anh/chị"
