"""Whoever ends a role, the person is told — in their own language — and what the role allowed
stops at once: the operator's `tocns users revoke` (run in a child process, as an operator does)
and a leader's /thuhoi queue the same message through the outbox."""

from __future__ import annotations

from bot.kernel import App
from handlers.core import Reply
from tests.reliability.test_roles_over_time import tocns
from tests.support import demo_driver, outbox_rows, seed_demo

TEAM = "19786-1"


async def told(app: App, chat_id: str) -> list[str]:
    return [
        Reply.from_payload(r.payload).text
        for r in await outbox_rows(app)
        if r.chat_id == chat_id and r.kind == "role_revoked"
    ]


async def test_the_operator_revoking_a_role_tells_the_person_in_their_language(app: App) -> None:
    await seed_demo(app)
    tnv = demo_driver(app, "tnv")
    await tnv.send("/ngonngu en")
    assert "/ghi" in (await tnv.send("/help")).text

    done = await tocns(
        app, "users", "revoke", "--channel", "console", "--user-id", "demo-tnv",
        "--role", "volunteer", "--unit", TEAM,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [message] = await told(app, "demo-tnv")
    assert message.startswith("Your role team member (Tổ CNSCĐ") and "was revoked" in message, message
    refused = await tnv.send("/ghi")
    assert "Đã ghi" not in refused.text and "Saved" not in refused.text

    # Granted again and revoked again: told again (another role line), not the old message twice.
    again = await tocns(
        app, "users", "grant", "--channel", "console", "--user-id", "demo-tnv",
        "--role", "volunteer", "--unit", TEAM,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    done = await tocns(
        app, "users", "revoke", "--channel", "console", "--user-id", "demo-tnv",
        "--role", "volunteer", "--unit", TEAM,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(await told(app, "demo-tnv")) == 2


async def test_a_leaders_thuhoi_names_the_role_in_the_persons_language(app: App) -> None:
    """The commune leader reads Vietnamese, the officer English: the officer's message is English."""
    await seed_demo(app)
    canbo, lanhdao = demo_driver(app, "canbo"), demo_driver(app, "lanhdao")
    await canbo.send("/ngonngu en")
    await lanhdao.send("/thuhoi")
    await lanhdao.tap("Phạm Quốc Bảo")
    assert "Đã thu hồi" in (await lanhdao.tap("Thu hồi")).text
    [message] = await told(app, "demo-canbo")
    assert message.startswith("Your role ") and "was revoked" in message, message
    assert "cán bộ" not in message.lower(), message  # the role named in English too
