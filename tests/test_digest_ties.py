"""A long tie at the cut of the digest's «Thấp nhất» list: forty communes at 0 % are counted in one
line, not named one by one, and the line says they share the rank and the value. Everything through
the product: the unit tree from `tocns units import-csv`, the dossiers from the one-stop export
with `tocns import dossiers`, the leaders from `tocns users grant` (one of them switching to
English with /ngonngu), and the digest from `tocns jobs run weekly_digest --week 2026-W47`; the test
reads the messages queued for each leader."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.kernel import App
from db.models import ChannelAccount
from handlers.core import Reply
from tests.support import ChatDriver, outbox_rows, run_cli
from tests.test_import import make_xlsx

PROVINCE = "77"
# (name, dossiers received online out of 10): ranks 1 to 4 ...
RANKED = (("Phường Một", 8), ("Phường Hai", 6), ("Phường Ba", 4), ("Phường Bốn", 2))
# ... and forty communes sharing rank 5 at 0 %: 5 dossiers each, all at the counter.
TIED = tuple(f"Xã Đồng {n:02d}" for n in range(1, 41))


def write_tree(path: Path) -> None:
    lines = ["code,name,kind,parent_code", f"{PROVINCE},Tỉnh Thử Nghiệm,province,"]
    names = [name for name, _ in RANKED] + list(TIED)
    lines += [f"{code(i)},{name},commune,{PROVINCE}" for i, name in enumerate(names)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def code(i: int) -> str:
    return f"{PROVINCE}{i + 1:03d}"


def write_export(path: Path) -> None:
    """The province's one-stop export for week 47 (16/11–22/11/2026), each row naming its commune."""
    rows = []
    counts = [(total, online) for total, online in ((10, o) for _, o in RANKED)] + [(5, 0)] * len(TIED)
    for i, (total, online) in enumerate(counts):
        for n in range(total):
            mode = "Trực tuyến toàn trình" if n < online else "Trực tiếp"
            dossier = f"000.00.{code(i)}.H77-261117-{n + 1:04d}"
            rows.append(
                [None, dossier, "Đăng ký khai sinh", "17/11/2026", None, None, None, mode, code(i), None]
            )
    path.write_bytes(make_xlsx(rows))


async def digest_of(app: App, user_id: str) -> Reply:
    async with app.sessions() as s:
        account = (
            await s.execute(select(ChannelAccount).where(ChannelAccount.external_id == user_id))
        ).scalar_one()
    rows = [
        r for r in await outbox_rows(app) if r.kind == "weekly_digest" and r.person_id == account.person_id
    ]
    (text,) = [r for r in rows if not r.payload.get("attachment")]
    return Reply.from_payload(text.payload)


def section(text: str, heading: str) -> list[str]:
    """The lines under a heading of the digest, up to the next blank line or heading."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading)) + 1
    out = []
    for line in lines[start:]:
        if not line.strip() or line.startswith(("⬆️", "⬇️", "🔔", "Chưa xếp hạng", "Not ranked")):
            break
        out.append(line)
    return out


async def test_a_long_tie_at_the_cut_is_counted_not_listed(app: App, tmp_path: Path) -> None:
    url = app.settings.database.url
    tree, export = tmp_path / "donvi.csv", tmp_path / "hoso.xlsx"
    write_tree(tree)
    write_export(export)
    done = run_cli(url, "units", "import-csv", str(tree))
    assert done.returncode == 0, done.stderr
    done = run_cli(url, "import", "dossiers", str(export), "--unit", PROVINCE, COLUMNS="300")
    assert done.returncode == 0, done.stderr
    assert f"{10 * len(RANKED) + 5 * len(TIED)} hồ sơ mới" in done.stdout, done.stdout
    for user_id, name in (("lead-vi", "Lãnh đạo tỉnh"), ("lead-en", "Provincial leader")):
        args = ("--channel", "console", "--user-id", user_id, "--role", "leader", "--unit", PROVINCE)
        done = run_cli(url, "users", "grant", *args, "--name", name)
        assert done.returncode == 0, done.stderr
    said = await ChatDriver(app, "lead-en", "Provincial leader", channel="console").send("/ngonngu en")
    assert "English" in said.text, said.text

    done = run_cli(url, "jobs", "run", "weekly_digest", "--week", "2026-W47")
    assert done.returncode == 0, done.stderr

    vi = await digest_of(app, "lead-vi")
    best = section(vi.text, "⬆️ Cao nhất")
    assert best == ["1. Phường Một: 80%", "2. Phường Hai: 60%", "3. Phường Ba: 40%"], best
    weakest = section(vi.text, "⬇️ Thấp nhất")
    # Six named (name order, the shared rank shown on each), the other 34 counted as tied.
    assert weakest == [
        *(f"5. {name}: 0%" for name in TIED[:6]),
        "… và 34 đơn vị khác cùng mức 0% (đồng hạng 5; xem bảng Excel).",
    ], weakest
    assert not any(name in line for name in TIED[6:] for line in weakest)
    # The Excel the line points to is under the message.
    assert any("Excel" in b.label for line in vi.buttons for b in line)

    en = await digest_of(app, "lead-en")
    weakest_en = section(en.text, "⬇️ Weakest")
    assert weakest_en[:6] == [f"5. {name}: 0%" for name in TIED[:6]]
    assert weakest_en[6:] == ["… and 34 more units tied at 0% (all rank 5; see the Excel file)."], weakest_en
    # Forty names would have made the message several screens long.
    assert len(re.findall(r"Xã Đồng \d\d", vi.text.split("🔔")[0])) == 6
