"""Unit imports: the official list (province 46 → 40 communes), CSV in every encoding Excel
produces, and files with problems that import nothing."""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select

from bot.kernel import App
from db.models import Unit
from services import unit_import, units
from services.errors import InvalidInput
from services.unit_import import ImportRejected

pytest.importorskip("vietnam_provinces")


async def count_units(app: App) -> int:
    async with app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(Unit))).scalar_one())


async def test_official_import_of_hue_loads_40_communes(app: App) -> None:
    async with app.sessions() as session, session.begin():
        result = await unit_import.import_official(session, None, "46")
    assert (result.added, result.total) == (41, 41)
    async with app.sessions() as session:
        tree = await units.list_units(session, "46")
    communes = [u for u in tree if u.kind == "commune"]
    assert len(communes) == 40
    assert tree[0].name == "Thành phố Huế" and tree[0].kind == "province"
    thuan_hoa = next(u for u in communes if u.code == "19786")
    assert thuan_hoa.name == "Phường Thuận Hóa" and thuan_hoa.path.startswith(tree[0].path)
    assert all(len(u.code) == 5 for u in communes)
    # Idempotent: the second run adds nothing.
    async with app.sessions() as session, session.begin():
        again = await unit_import.import_official(session, None, "46")
    assert (again.added, again.updated) == (0, 0)
    assert await count_units(app) == 41


def test_official_rows_match_the_demo_csv() -> None:
    from pathlib import Path

    from services.demo import read_units_csv

    demo = read_units_csv(Path(__file__).resolve().parent.parent / "data" / "demo" / "units_hue.csv")
    official = unit_import.official_rows("46")
    assert {(r.code, r.name) for r in official} == {(r.code, r.name) for r in demo}


def test_unknown_province_is_refused() -> None:
    with pytest.raises(InvalidInput):
        unit_import.official_rows("99")


TREE = """code,name,kind,parent_code
T1-1,Tổ CNSCĐ Thôn Phước Tích,team,X1
X1,Xã Phong Điền,commune,P1
P1,Tỉnh Thử Nghiệm,province,
"""


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def cp1258(text: str) -> bytes:
    """Encode as Excel's Windows-1258: precomposed base letters, tone marks as combining chars."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tones = [c for c in decomposed if c in TONE_MARKS]
            base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
            out += (base + "".join(tones)).encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize(
    "data",
    [TREE.encode("utf-8"), b"\xef\xbb\xbf" + TREE.encode("utf-8"), cp1258(TREE)],
    ids=["utf8", "utf8-bom", "cp1258"],
)
async def test_csv_encodings_and_parents_after_children(app: App, data: bytes) -> None:
    async with app.sessions() as session, session.begin():
        result = await unit_import.import_csv(session, None, data)
    assert (result.added, result.total) == (3, 3)
    async with app.sessions() as session:
        team = await units.get(session, "T1-1")
        province = await units.get(session, "P1")
    assert team.name == "Tổ CNSCĐ Thôn Phước Tích"  # NFC, same as typed
    assert team.name == unicodedata.normalize("NFC", team.name)
    assert team.path.startswith(province.path) and team.path.count("/") == 4
    async with app.sessions() as session, session.begin():
        again = await unit_import.import_csv(session, None, data)
    assert (again.added, again.updated) == (0, 0)


async def test_parent_already_in_the_database(app: App) -> None:
    async with app.sessions() as session, session.begin():
        await unit_import.import_csv(session, None, TREE.encode())
        result = await unit_import.import_csv(
            session, None, "code,name,kind,parent_code\nX1-2,Tổ CNSCĐ Thôn 2,team,X1\n".encode()
        )
    assert result.added == 1


BAD = """code,name,kind,parent_code
A,Tỉnh A,province,
B,Xã B,commune,C
C,Xã C,commune,B
A,Tỉnh A lặp,province,
D,,commune,A
E,Xã E,huyen_cu,A
F,Xã F,commune,KHONGCO
G,Tổ G,team,G
"""


async def test_bad_csv_reports_rows_and_imports_nothing(app: App) -> None:
    before = await count_units(app)
    with pytest.raises(ImportRejected) as info:
        async with app.sessions() as session, session.begin():
            await unit_import.import_csv(session, None, BAD.encode())
    found = {(p.row, p.key.rsplit(".", 1)[1]) for p in info.value.problems}
    assert (5, "duplicate") in found
    assert (6, "empty_name") in found
    assert (7, "unknown_kind") in found
    assert (8, "unknown_parent") in found
    assert (9, "cycle") in found
    assert any(key == "cycle" and row in (3, 4) for row, key in found)
    assert [p.row for p in info.value.problems] == sorted(p.row for p in info.value.problems)
    assert await count_units(app) == before


async def test_missing_columns_and_undecodable_bytes() -> None:
    _rows, problems = unit_import.parse_csv("ma,ten\n1,x\n")
    assert problems and problems[0].key == "units.import.missing_columns"
    with pytest.raises(InvalidInput):
        unit_import.decode(b"\x81\x8a\x9a\xff\xfe")  # not UTF-8, and undefined in Windows-1258


def test_missing_package_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "vietnam_provinces", None)
    with pytest.raises(unit_import.ProvincesMissing) as info:
        unit_import.official_rows("46")
    assert '.[provinces]"' in info.value.params["hint"]


def test_cli_import_csv_reports_rows(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from bot.cli.units import units_cli

    assert isinstance(tmp_path, Path)
    monkeypatch.setenv("TOCNS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(BAD.encode())
    result = CliRunner().invoke(units_cli, ["import-csv", str(bad)])
    assert result.exit_code == 2
    assert "dòng 5" in result.output and "chưa nhập dòng nào" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(cp1258(TREE))
    result = CliRunner().invoke(units_cli, ["import-csv", str(good)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(units_cli, ["list", "--under", "X1"])
    assert "Thôn Phước Tích" in result.output
