"""The command line's own error lines, one language per message: Vietnamese by default, English
with `--lang en` or TOCNS_LOCALE=en. Usage mistakes are one line and exit code 2, never a
traceback."""

from __future__ import annotations

import os
import re
from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "missing": "thiếu {what} «{name}» cho `tocns {command}` — xem `tocns {command} --help`.",
        "missing.argument": "tham số",
        "missing.option": "tuỳ chọn",
        "no_command": "không có lệnh «{name}» — xem `tocns {command}--help`.",
        "no_option": "không có tuỳ chọn «{name}» — xem `tocns {command} --help`.",
        "bad_value": "giá trị không hợp lệ cho «{name}»: {detail}",
        "usage": "lệnh chưa đúng: {detail} — xem `tocns --help`.",
        "unknown_job": "không có việc «{name}»; chọn một trong: {choices}.",
        "bad_week": "--week: cần dạng 2026-W47.",
        "future_week": "--week: tuần {week} chưa bắt đầu.",
        "week_not_over": (
            "--week: tuần {week} chưa kết thúc (đến hết ngày {last}); bản tin và nhắc việc tính trên "
            "cả tuần — chọn tuần đã xong, hoặc thêm --partial nếu thật sự muốn gửi số liệu dở dang."
        ),
        "no_file": "không tìm thấy tệp «{path}».",
        "demo_ready": "Đã nạp dữ liệu mẫu (đơn vị mới: {units}, người mới: {people}).",
        "no_unit": "--unit: không có đơn vị mã «{code}».",
        "unknown_demo_user": "không có người dùng demo «{name}»; chọn một trong:\n{choices}",
        "unknown_role": "--role: không có vai trò «{name}»; chọn một trong: {choices}.",
        "bad_value_short": "giá trị «{name}» chưa đúng — xem `tocns {command}--help`.",
        "unknown_lang": "--lang: không có ngôn ngữ «{name}»; chọn vi (tiếng Việt) hoặc en (tiếng Anh).",
        "unknown_channel": "--channel: không có kênh «{name}»; chọn một trong: {choices}.",
        "role_not_invitable": ("--role: mã mời không cấp được vai trò «{name}»; chọn một trong: {choices}."),
        "invite_revoked": "Đã thu hồi mã mời {code}.",
        "invite_already_revoked": "Mã mời {code} đã bị thu hồi từ trước; không có gì thay đổi.",
        "targets_rejected": "chưa nhập chỉ tiêu nào — tệp có lỗi, không dòng nào được ghi:",
        "port_busy": (
            "không mở được máy chủ web tại {host}:{port}: cổng đang được dùng (có thể một tocns khác "
            "đang chạy) — đổi cổng bằng TOCNS_WEB_PORT (hoặc web.port trong config.yaml)."
        ),
        "port_failed": (
            "không mở được máy chủ web tại {host}:{port} ({detail}) — kiểm tra TOCNS_WEB_HOST và "
            "TOCNS_WEB_PORT (hoặc web.host, web.port trong config.yaml)."
        ),
        "zalo_unreachable": (
            "không kết nối được tới Zalo tại {url} ({detail}) — kiểm tra mạng của máy này rồi chạy lại "
            "`tocns zalo oa-login`."
        ),
    },
    "en": {
        "missing": "missing {what} '{name}' for `tocns {command}` — see `tocns {command} --help`.",
        "missing.argument": "argument",
        "missing.option": "option",
        "no_command": "no such command '{name}' — see `tocns {command}--help`.",
        "no_option": "no such option '{name}' — see `tocns {command} --help`.",
        "bad_value": "invalid value for '{name}': {detail}",
        "usage": "wrong usage: {detail} — see `tocns --help`.",
        "unknown_job": "unknown job '{name}'; choose one of: {choices}.",
        "bad_week": "--week: expected like 2026-W47.",
        "future_week": "--week: week {week} has not started.",
        "week_not_over": (
            "--week: week {week} is not over (it ends on {last}); the digest and the reminders judge "
            "a whole week — pick a finished week, or add --partial to send incomplete figures anyway."
        ),
        "demo_ready": "Demo data ready (new units: {units}, new people: {people}).",
        "no_file": "file not found: '{path}'.",
        "no_unit": "--unit: no unit with code '{code}'.",
        "unknown_demo_user": "unknown demo user '{name}'; choose one of:\n{choices}",
        "unknown_role": "--role: unknown role '{name}'; choose one of: {choices}.",
        "bad_value_short": "invalid value for '{name}' — see `tocns {command}--help`.",
        "unknown_lang": "--lang: unknown language '{name}'; choose vi (Vietnamese) or en (English).",
        "unknown_channel": "--channel: unknown channel '{name}'; choose one of: {choices}.",
        "role_not_invitable": (
            "--role: an invite code cannot give the role '{name}'; choose one of: {choices}."
        ),
        "invite_revoked": "Invite code {code} revoked.",
        "invite_already_revoked": "Invite code {code} was already revoked; nothing changed.",
        "targets_rejected": "no target imported — the file has errors, no line was written:",
        "port_busy": (
            "cannot start the web server on {host}:{port}: the port is already in use (another tocns "
            "running?) — choose another port with TOCNS_WEB_PORT (or web.port in config.yaml)."
        ),
        "port_failed": (
            "cannot start the web server on {host}:{port} ({detail}) — check TOCNS_WEB_HOST and "
            "TOCNS_WEB_PORT (or web.host, web.port in config.yaml)."
        ),
        "zalo_unreachable": (
            "could not reach Zalo at {url} ({detail}) — check this machine's network, then run "
            "`tocns zalo oa-login` again."
        ),
    },
}


_CURRENT: dict[str, str] = {}


def current_locale() -> str:
    """The language chosen for this invocation (set by `tocns` main; else TOCNS_LOCALE, else vi)."""
    lang = _CURRENT.get("lang") or os.environ.get("TOCNS_LOCALE", "vi")
    return lang if lang in TEXTS else "vi"


def pick_locale(argv: list[str]) -> tuple[str, list[str]]:
    """`--lang en` / `--lang=en` anywhere on the line (removed), else TOCNS_LOCALE, else vi; any
    other --lang raises UnknownLanguage (a wrong TOCNS_LOCALE is refused by the settings)."""
    lang = os.environ.get("TOCNS_LOCALE", "vi")
    _CURRENT.clear()
    rest: list[str] = []
    skip = given = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--lang" and i + 1 < len(argv):
            lang, skip, given = argv[i + 1], True, True
        elif arg.startswith("--lang="):
            lang, given = arg.split("=", 1)[1], True
        else:
            rest.append(arg)
    if given and lang not in TEXTS:
        _CURRENT["lang"] = current_locale()  # the error line: TOCNS_LOCALE, else vi
        raise UnknownLanguage(lang)
    _CURRENT["lang"] = lang if lang in TEXTS else "vi"
    if given:
        _CURRENT["given"] = lang
    return _CURRENT["lang"], rest


class UnknownLanguage(ValueError):
    """`--lang` names a language the command line does not speak."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def given_locale() -> str | None:
    """The language asked for on the command line with --lang, if any."""
    return _CURRENT.get("given")


def text(lang: str, key: str, **params: Any) -> str:
    return TEXTS.get(lang, TEXTS["vi"])[key].format(**params)


def usage_line(exc: Any, lang: str) -> str:
    """One line for a (Typer-vendored) Click usage error."""
    kind = type(exc).__name__
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path.removeprefix("tocns").strip() if ctx is not None and ctx.command_path else ""
    command = (path + " ") if path else ""
    param = getattr(exc, "param", None)
    if kind == "MissingParameter":
        name = ""
        if param is not None:
            opts = getattr(param, "opts", None) or []
            name = opts[0] if opts and str(opts[0]).startswith("-") else str(param.name).upper()
        what = text(lang, "missing.option" if name.startswith("-") else "missing.argument")
        return text(lang, "missing", what=what, name=name, command=path or "")
    if kind == "NoSuchOption":
        return text(lang, "no_option", name=getattr(exc, "option_name", ""), command=path)
    message = str(exc.format_message()) if hasattr(exc, "format_message") else str(exc)
    if kind == "UsageError" and "No such command" in message:
        name = message.split("'")[1] if "'" in message else message
        return text(lang, "no_command", name=name, command=command)
    if kind == "BadParameter":
        name = str(getattr(param, "name", "")) if param is not None else ""
        missing = re.search(r"(?:file|directory|path) '([^']*)' does not exist", message, re.IGNORECASE)
        if missing:
            return text(lang, "no_file", path=missing.group(1))
        if lang != "en":  # Click's own wording is English: name the parameter, point to --help
            return text(lang, "bad_value_short", name=name, command=command)
        return text(lang, "bad_value", name=name, detail=message)
    return text(lang, "usage", detail=message)
