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
        "no_unit": "--unit: không có đơn vị mã «{code}».",
        "unknown_demo_user": "không có người dùng demo «{name}»; chọn một trong:\n{choices}",
        "unknown_role": "--role: không có vai trò «{name}»; chọn một trong: {choices}.",
        "bad_value_short": "giá trị «{name}» chưa đúng — xem `tocns {command}--help`.",
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
        "no_file": "file not found: '{path}'.",
        "no_unit": "--unit: no unit with code '{code}'.",
        "unknown_demo_user": "unknown demo user '{name}'; choose one of:\n{choices}",
        "unknown_role": "--role: unknown role '{name}'; choose one of: {choices}.",
        "bad_value_short": "invalid value for '{name}' — see `tocns {command}--help`.",
    },
}


_CURRENT: dict[str, str] = {}


def current_locale() -> str:
    """The language chosen for this invocation (set by `tocns` main; else TOCNS_LOCALE, else vi)."""
    lang = _CURRENT.get("lang") or os.environ.get("TOCNS_LOCALE", "vi")
    return lang if lang in TEXTS else "vi"


def pick_locale(argv: list[str]) -> tuple[str, list[str]]:
    """`--lang en` / `--lang=en` anywhere on the line (removed), else TOCNS_LOCALE, else vi."""
    lang = os.environ.get("TOCNS_LOCALE", "vi")
    rest: list[str] = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--lang" and i + 1 < len(argv):
            lang, skip = argv[i + 1], True
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    _CURRENT["lang"] = lang if lang in TEXTS else "vi"
    return _CURRENT["lang"], rest


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
