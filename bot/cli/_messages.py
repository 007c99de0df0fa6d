"""The command line's own lines (results, tables' headings, errors), one language per message:
Vietnamese by default, English with `--lang en` or TOCNS_LOCALE=en (the texts: _messages_vi,
_messages_en). Usage mistakes are one line and exit code 2, never a traceback."""

from __future__ import annotations

import os
import re
from typing import Any

from bot.cli._messages_en import EN
from bot.cli._messages_vi import VI

TEXTS: dict[str, dict[str, str]] = {"vi": VI, "en": EN}


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


def say(key: str, **params: Any) -> str:
    """`key` in the language of this invocation."""
    return text(current_locale(), key, **params)


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
