"""The e2e harness's fixtures (emulator, real bot process, Telegram users) for crash tests here."""

from tests.e2e.conftest import _template_db, emulator, start_bot, tg_session, tg_user

__all__ = ["_template_db", "emulator", "start_bot", "tg_session", "tg_user"]
