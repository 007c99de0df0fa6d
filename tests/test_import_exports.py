"""What real one-stop exports look like: a result date under another name, a closing status
without a result date, a total line, the list on the second sheet, an old .xls, a relative path
on the command line, a withdrawal after a result."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from bot.kernel import App
from db.models import Dossier
from tests.support import demo_driver, run_cli
from tests.test_import import reasons

HEADER = [
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục",
    "Ngày tiếp nhận",
    "Ngày hẹn trả",
    "Ngày trả kết quả",
    "Trạng thái",
]


def xlsx(rows: list[list[Any]], header: list[Any] = HEADER, before: list[list[Any]] | None = None) -> bytes:
    """One sheet; with `before`, a summary sheet comes first and the list is on «Chi tiet»."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    if before is not None:
        ws.title = "Tong hop"
        for line in before:
            ws.append(line)
        ws = wb.create_sheet("Chi tiet")
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def stored(app: App, *codes: str) -> dict[str, tuple[str, bool]]:
    """code → (status, has a result date)."""
    async with app.sessions() as s:
        found = await s.execute(
            select(Dossier.code, Dossier.status, Dossier.finished_at).where(Dossier.code.in_(codes))
        )
        return {code: (status, finished is not None) for code, status, finished in found}


C = [f"000.00.19786.H46-261124-07{i:02d}" for i in range(10)]


async def test_closing_status_needs_its_result_date_and_the_usual_names_are_known(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    rows = [
        [1, C[0], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", "25/11/2026", "Đã trả kết quả"],
        [2, C[1], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", None, "Đã trả kết quả"],
        [3, C[2], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", "", "Hoàn thành"],
        [4, C[3], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", None, "Từ chối"],
        [5, C[4], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", None, "Đang xử lý"],
    ]
    said = await canbo.upload("ds.xlsx", xlsx(rows, [*HEADER, "Ngày ký duyệt"]))
    assert "2 hồ sơ mới" in said.text and "3 dòng bị từ chối" in said.text, said.text
    errors = reasons(said.text)
    assert set(errors) == {3, 4, 5}, said.text
    assert "«Đã trả kết quả»" in errors[3] and "thiếu ngày có kết quả" in errors[3]
    assert "«Hoàn thành»" in errors[4] and "«Từ chối»" in errors[5]
    assert "ghi ngày có kết quả" in errors[3] and "chưa được nhập" in errors[3]
    # «Ngày trả kết quả» is the result date; an unknown date column is named, not dropped silently.
    assert await stored(seeded_app, *C[:5]) == {C[0]: ("returned", True), C[4]: ("processing", False)}
    assert "Cột ngày không được dùng: «Ngày ký duyệt»" in said.text, said.text
    # Without any result-date column, the line says to add the column.
    header = ["STT", "Mã hồ sơ", "Tên thủ tục", "Ngày tiếp nhận", "Trạng thái"]
    said = await canbo.upload(
        "ds2.xlsx", xlsx([[1, C[5], "Đăng ký khai sinh", "24/11/2026", "Có kết quả"]], header)
    )
    assert "1 dòng bị từ chối" in said.text and "thêm cột «Ngày có kết quả»" in said.text, said.text
    assert await stored(seeded_app, C[5]) == {}


async def test_total_line_is_skipped_not_refused(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    rows = [
        [1, C[6], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", None, "Đang xử lý"],
        [2, C[7], "Tổng hợp thông tin", "24/11/2026", "26/11/2026", None, "Đang xử lý"],
        [None, None, None, None, None, None, None],
        [None, "Tổng cộng: 2 hồ sơ", None, None, None, None, None],
        ["Tổng số", None, None, 2, None, None, None],
        [None, "Cộng", 2],
    ]
    said = await canbo.upload("ds.xlsx", xlsx(rows))
    assert "2 dòng — 2 hồ sơ mới" in said.text and "0 dòng bị từ chối" in said.text, said.text
    assert "Đã bỏ qua 3 dòng tổng cộng" in said.text, said.text


async def test_the_list_on_the_second_sheet_is_found_and_named(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    summary = [["BÁO CÁO TỔNG HỢP"], ["Trạng thái", "Số lượng"], ["Tổng số hồ sơ", 1]]
    rows = [[1, C[8], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", "25/11/2026", "Đã trả kết quả"]]
    said = await canbo.upload("ds.xlsx", xlsx(rows, before=summary))
    assert "1 hồ sơ mới" in said.text, said.text
    assert "trang tính «Chi tiet»" in said.text, said.text
    assert await stored(seeded_app, C[8]) == {C[8]: ("returned", True)}


async def test_an_xls_file_is_refused_saying_to_save_it_as_xlsx(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    old = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504  # an OLE2 header: the old Excel format
    for caption in (None, "/nhap"):
        said = await canbo.upload("ds.xls", old, "application/vnd.ms-excel", caption=caption)
        assert "Chỉ nhận tệp .xlsx hoặc .csv (tệp đã gửi: ds.xls)" in said.text, (caption, said.text)
        assert "«Sổ làm việc Excel (*.xlsx)»" in said.text
        assert "chưa biết dùng" not in said.text and "Nhập hồ sơ từ hệ thống" not in said.text
    # /nhap under a real export imports it (the file is not dropped for the help).
    rows = [[1, C[9], "Đăng ký khai sinh", "24/11/2026", "26/11/2026", None, "Đang xử lý"]]
    said = await canbo.upload("ds.xlsx", xlsx(rows), caption="/nhap")
    assert "1 hồ sơ mới" in said.text, said.text


async def test_withdrawal_after_a_result_says_so(seeded_app: App) -> None:
    canbo = demo_driver(seeded_app, "canbo")
    code = "000.00.19786.H46-261125-0107"
    first = [[1, code, "Đăng ký tạm trú", "25/11/2026", "28/11/2026", "27/11/2026", "Đã giải quyết"]]
    said = await canbo.upload("a.xlsx", xlsx(first))
    assert "1 hồ sơ mới" in said.text, said.text
    later = [[1, code, "Đăng ký tạm trú", "25/11/2026", "28/11/2026", "27/11/2026", "Rút hồ sơ"]]
    said = await canbo.upload("b.xlsx", xlsx(later))
    reason = reasons(said.text)[2]
    assert "đã có kết quả giải quyết nên không thể rút hồ sơ" in reason and "bỏ qua" in reason, said.text
    assert "bước trước đó" not in reason
    assert await stored(seeded_app, code) == {code: ("result_ready", True)}


async def test_cli_takes_a_relative_path_and_says_when_the_file_is_missing(
    seeded_app: App, tmp_path: Path
) -> None:
    url = seeded_app.settings.database.url
    folder = tmp_path / "imp"
    folder.mkdir()
    code = "000.00.19786.H46-261124-0801"
    rows = [
        [1, code, "Đăng ký khai sinh", "24/11/2026", "26/11/2026", "25/11/2026", "Đã trả kết quả"],
        [None, "Tổng cộng: 1 hồ sơ"],
    ]
    (folder / "exp1.xlsx").write_bytes(xlsx(rows, before=[["BÁO CÁO"], ["Tổng số hồ sơ", 1]]))
    done = run_cli(url, "import", "dossiers", "imp/exp1.xlsx", "--unit", "19786", cwd=tmp_path, COLUMNS="300")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 dòng — 1 hồ sơ mới" in done.stdout and "trang tính «Chi tiet»" in done.stdout, done.stdout
    assert await stored(seeded_app, code) == {code: ("returned", True)}
    done = run_cli(
        url, "import", "dossiers", "imp/khong-co.xlsx", "--unit", "19786", cwd=tmp_path, COLUMNS="300"
    )
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "không tìm thấy tệp «imp/khong-co.xlsx»" in said, said
