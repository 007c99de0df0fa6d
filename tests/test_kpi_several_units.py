"""/kpi, /xephang and /xuat typed without a code by someone who holds their role in two communes:
asked which (buttons, numbered options, or the code typed), with the period they typed kept — it
used to show the first commune's figures in silence. A district or province leader keeps their
area. People change over time: once one of the two roles is revoked (`tocns users revoke`,
/thuhoi), the remaining commune is shown with no question. Roles are granted and revoked through
the product's command line and /thuhoi; the person talks to the real dialog core."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.kernel import App
from db.models import Unit
from tests.reliability.test_roles_over_time import tocns
from tests.support import Said, demo_driver

HOME, SECOND = "19786", "19768"  # canbo's commune (demo seed), a second one granted here
PROVINCE = "46"


async def names(app: App) -> dict[str, str]:
    async with app.sessions() as s:
        return {code: name for code, name in await s.execute(select(Unit.code, Unit.name))}


async def cli(app: App, *args: str) -> str:
    done = await tocns(app, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def users(app: App, verb: str, key: str, role: str, unit: str) -> None:
    """`tocns users grant|revoke` for a demo person's console account."""
    await cli(
        app, "users", verb, "--channel", "console", "--user-id", f"demo-{key}", "--role", role, "--unit", unit
    )


async def grant(app: App, key: str, role: str, unit: str) -> None:
    await users(app, "grant", key, role, unit)


async def revoke(app: App, key: str, role: str, unit: str) -> None:
    await users(app, "revoke", key, role, unit)


def asked(said: Said) -> bool:
    return "đơn vị nào" in said.text and not said.text.startswith(("📊", "🏆"))


def title(said: Said) -> str:
    return said.text.splitlines()[0]


def excel_name(said: Said) -> str:
    [attachment] = [r.attachment for r in said.replies if r.attachment is not None]
    return attachment.filename


async def test_an_officer_of_two_communes_is_asked_which_commune(seeded_app: App) -> None:
    await grant(seeded_app, "canbo", "officer", SECOND)
    named = await names(seeded_app)
    canbo = demo_driver(seeded_app, "canbo")

    question = await canbo.send("/kpi")
    assert asked(question) and "2 đơn vị" in question.text and f"/kpi {HOME}" in question.text, question.text
    assert question.labels() == [f"{named[HOME]} ({HOME})", f"{named[SECOND]} ({SECOND})"]
    said = await canbo.press(question.button(SECOND))
    assert title(said).startswith(f"📊 {named[SECOND]} — "), said.text
    # The question stays up: the other commune is one tap away, and it is the same as typed with its code.
    said = await canbo.press(question.button(HOME))
    direct = await canbo.send(f"/kpi {HOME}")
    assert said.text == direct.text and not asked(direct), said.text
    # The code typed as the answer picks it too.
    await canbo.send("/kpi")
    said = await canbo.send(SECOND)
    assert title(said).startswith(f"📊 {named[SECOND]} — "), said.text

    # A period alone: asked which, and the answer is that period's.
    question = await canbo.send("/kpi tuan truoc")
    direct = await canbo.send(f"/kpi {SECOND} tuan truoc")
    week = title(direct).split(" — ", 1)[1]
    assert asked(question) and week in question.text, (question.text, week)
    said = await canbo.press(question.button(SECOND))
    assert said.text == direct.text
    question = await canbo.send("/kpi 2026-Q4")
    said = await canbo.press(question.button(HOME))
    assert title(said) == f"📊 {named[HOME]} — Quý IV/2026", said.text

    # /xephang and /xuat had the same silent default.
    question = await canbo.send("/xephang")
    assert asked(question) and "/xephang" in question.text, question.text
    said = await canbo.press(question.button(SECOND))
    assert said.text.startswith("🏆") and named[SECOND] in title(said), said.text
    question = await canbo.send("/xuat tuan truoc")
    assert asked(question) and "/xuat" in question.text, question.text
    said = await canbo.press(question.button(SECOND))
    assert excel_name(said).startswith(f"kpi-{SECOND}-"), excel_name(said)
    said = await canbo.send(f"/xuat {HOME}")
    assert excel_name(said).startswith(f"kpi-{HOME}-")


async def test_numbered_choice_where_there_are_no_buttons(seeded_app: App) -> None:
    await grant(seeded_app, "canbo", "officer", SECOND)
    named = await names(seeded_app)
    canbo = demo_driver(seeded_app, "canbo", supports_buttons=False)
    said = await canbo.send("/kpi")
    second = next(line for line in said.text.splitlines() if f"({SECOND})" in line)
    said = await canbo.send(second.split(".")[0])
    assert title(said).startswith(f"📊 {named[SECOND]} — "), said.text


async def test_after_one_role_is_revoked_the_remaining_commune_is_shown_without_a_question(
    seeded_app: App,
) -> None:
    await grant(seeded_app, "canbo", "officer", SECOND)
    named = await names(seeded_app)
    canbo = demo_driver(seeded_app, "canbo")
    question = await canbo.send("/kpi")
    assert asked(question)
    # The commune granted first goes: the one left is not simply «the first one» as before.
    await revoke(seeded_app, "canbo", "officer", HOME)
    said = await canbo.send("/kpi")
    assert title(said).startswith(f"📊 {named[SECOND]} — ") and not said.labels(), said.text
    said = await canbo.send("/xephang")
    assert named[SECOND] in title(said), said.text
    said = await canbo.send("/xuat")
    assert excel_name(said).startswith(f"kpi-{SECOND}-")
    # The old question's button for the commune no longer held is refused by name.
    said = await canbo.press(question.button(HOME))
    assert "nằm ngoài phạm vi của anh/chị" in said.text and named[HOME] in said.text, said.text


async def test_revoked_by_a_leader_with_thuhoi_while_the_question_is_open(seeded_app: App) -> None:
    await grant(seeded_app, "canbo", "officer", SECOND)
    named = await names(seeded_app)
    canbo, tinh = demo_driver(seeded_app, "canbo"), demo_driver(seeded_app, "tinh")
    assert asked(await canbo.send("/kpi"))
    said = await tinh.send("/thuhoi")
    [label] = [b for b in said.labels() if "Phạm Quốc Bảo" in b and named[SECOND] in b]
    await tinh.tap(label)
    said = await tinh.tap("Thu hồi")
    assert "Phạm Quốc Bảo" in said.text, said.text
    # The open question went with the role: the code typed now is no answer to it.
    said = await canbo.send(SECOND)
    assert not said.text.startswith("📊"), said.text
    said = await canbo.send("/kpi tuan truoc")
    assert title(said).startswith(f"📊 {named[HOME]} — ") and not said.labels(), said.text


async def test_a_role_inside_another_or_above_a_commune_asks_nothing(seeded_app: App, tmp_path: Path) -> None:
    named = await names(seeded_app)
    # A team of the officer's own commune is inside it: still one unit.
    await grant(seeded_app, "canbo", "team_leader", f"{HOME}-1")
    said = await demo_driver(seeded_app, "canbo").send("/kpi")
    assert title(said).startswith(f"📊 {named[HOME]} — "), said.text
    # A province leader who is also an officer of a commune of another province: the province, as before.
    tree = tmp_path / "tree.csv"
    tree.write_text("code,name,kind,parent_code\n99,Tỉnh Thử,province,\n99001,Xã Thử,commune,99\n")
    await cli(seeded_app, "units", "import-csv", str(tree))
    await grant(seeded_app, "tinh", "officer", "99001")
    tinh = demo_driver(seeded_app, "tinh")
    for command in ("/kpi", "/xephang"):
        said = await tinh.send(command)
        assert not asked(said) and named[PROVINCE] in title(said), (command, said.text)
    said = await tinh.send("/xuat")
    assert excel_name(said).startswith(f"kpi-{PROVINCE}-")
    # A commune leader who is also an officer of another commune holds two communes: asked.
    await grant(seeded_app, "lanhdao", "officer", SECOND)
    assert asked(await demo_driver(seeded_app, "lanhdao").send("/kpi"))
