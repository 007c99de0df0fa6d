"""Issue 14, High 3: a 2 MB .xlsx whose sharedStrings inflate to gigabytes froze the bot (RSS
2.27 GB, /healthz 55.7 s) and ended `tocns import dossiers` in MemoryError. Now the archive is
checked before parsing, parsing runs in a memory-bounded child outside the intake transaction,
and the refusal is one Vietnamese sentence; nothing is imported."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.kernel import App
from db.models import Dossier
from services import spreadsheet_guard
from services.spreadsheet_guard import Limits, SpreadsheetRefused
from tests.support import demo_driver
from tests.test_import import make_xlsx, sample_rows

ROOT = Path(__file__).resolve().parents[2]
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OXML = "application/vnd.openxmlformats"


def bomb(inflated_mb: int) -> bytes:
    """A well-formed workbook whose one shared string is `inflated_mb` MB of «A» (≈1000:1)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types xmlns="{CT_NS}">'
            f'<Default Extension="rels" ContentType="{OXML}-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{OXML}-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{OXML}-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{OXML}-'
            'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{RELS_NS}"><Relationship Id="rId1" '
            f'Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{DOC_REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{RELS_NS}">'
            f'<Relationship Id="rId1" Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<?xml version="1.0"?><worksheet xmlns="{NS}"><sheetData><row r="1">'
            '<c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
        )
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>'.encode())
            chunk = b"A" * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(chunk)
            fh.write(b"</t></si></sst>")
    return buf.getvalue()


@pytest.fixture(scope="module")
def bomb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "hoso.xlsx"
    path.write_bytes(bomb(400))
    return path


async def dossier_count(app: App) -> int:
    async with app.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(Dossier))).scalar_one())


async def test_zip_bomb_upload_is_refused_in_one_sentence(seeded_app: App, bomb_file: Path) -> None:
    before = await dossier_count(seeded_app)
    data = await asyncio.to_thread(bomb_file.read_bytes)
    assert len(data) < 2 * 1024 * 1024  # a small file, as in the report
    said = await demo_driver(seeded_app, "canbo").upload("hoso.xlsx", data)
    assert "bị từ chối" in said.text and "Chưa nhập dòng nào" in said.text
    assert "Traceback" not in said.text
    assert await dossier_count(seeded_app) == before


async def test_zip_bomb_on_the_command_line_is_one_line(seeded_app: App, bomb_file: Path) -> None:
    env = {**os.environ, "TOCNS_DATABASE_URL": seeded_app.settings.database.url, "TOCNS_LOG_LEVEL": "WARNING"}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", "import", "dossiers", str(bomb_file), "--unit", "19786"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "bị từ chối" in done.stderr and "MemoryError" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_the_child_dies_alone_when_the_parser_outgrows_its_memory(bomb_file: Path) -> None:
    """Whatever gets past the archive check (here: the check switched off), the parser runs under
    RLIMIT_AS in its own process: it dies there, this process only sees a refusal."""
    base = spreadsheet_guard.asdict(spreadsheet_guard.UPLOAD)
    lax = Limits(**{**base, "max_uncompressed": 1 << 40, "max_ratio": 1 << 30, "memory": 384 * 1024 * 1024})
    with pytest.raises(SpreadsheetRefused):
        spreadsheet_guard.collect(bomb_file.read_bytes(), "hoso.xlsx", lax)


def test_rows_cells_and_strings_are_capped() -> None:
    few = Limits(**{**spreadsheet_guard.asdict(spreadsheet_guard.UPLOAD), "max_rows": 2})
    with pytest.raises(Exception) as exc:
        spreadsheet_guard.collect(make_xlsx(sample_rows()), "hoso.xlsx", few)
    assert getattr(exc.value, "key", "") == "nhap.errors.too_many_rows"
    long = "x" * 50_000
    data = ("Mã hồ sơ,Tên thủ tục\n" + f"A1,{long}\n").encode()
    rows = spreadsheet_guard.collect(data, "hoso.csv")
    assert len(rows[1][1][1]) == spreadsheet_guard.UPLOAD.max_chars


def test_archive_check_refuses_without_inflating() -> None:
    """Entry count and ratio are read from the zip directory alone."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(spreadsheet_guard.UPLOAD.max_entries + 1):
            z.writestr(f"xl/x{i}.xml", "<x/>")
    with pytest.raises(SpreadsheetRefused):
        spreadsheet_guard.check_archive(buf.getvalue(), "many.xlsx", spreadsheet_guard.UPLOAD)


async def test_a_real_export_still_imports_through_the_guard(seeded_app: App) -> None:
    before = await dossier_count(seeded_app)
    said = await demo_driver(seeded_app, "canbo").upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "Đã xử lý tệp" in said.text and "độc hại" not in said.text
    assert await dossier_count(seeded_app) > before


async def test_a_parser_that_fails_by_itself_is_not_called_a_hostile_file(
    seeded_app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug or a broken install in the parsing child (an import error, say) exits non-zero without
    a word on stdout: the officer is told it is the system's fault, the admins get the traceback's
    last line in the log, and the file is not called malicious."""
    failing = (
        "import sys; sys.stderr.write('Traceback ...\\nImportError: cannot import name open_sheet\\n');"
        " sys.exit(1)"
    )
    monkeypatch.setattr(spreadsheet_guard, "CHILD", (sys.executable, "-c", failing))
    before = await dossier_count(seeded_app)
    said = await demo_driver(seeded_app, "canbo").upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "lỗi của hệ thống, không phải của tệp" in said.text and "độc hại" not in said.text, said.text
    assert await dossier_count(seeded_app) == before
    assert any("ImportError: cannot import name open_sheet" in r.getMessage() for r in caplog.records)


async def test_a_parser_killed_by_its_limits_is_still_a_refused_file(
    seeded_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"  # as RLIMIT_AS/CPU or our clock do
    monkeypatch.setattr(spreadsheet_guard, "CHILD", (sys.executable, "-c", killed))
    said = await demo_driver(seeded_app, "canbo").upload("hoso.xlsx", make_xlsx(sample_rows()))
    assert "bị từ chối" in said.text and "độc hại" in said.text, said.text
