"""The message catalog: every user-facing sentence, Vietnamese first, English second.

Files live in `handlers/locales/<lang>/<feature>.yaml`; a key is `<feature>.<path.in.file>`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
log = logging.getLogger(__name__)


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}", value, out)
    elif isinstance(node, list):
        out[prefix] = "\n".join(str(x) for x in node)
    else:
        out[prefix] = str(node)


class Catalog:
    """Loaded once at assembly; `text(lang, key, **params)` formats a sentence."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self.messages = messages

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Catalog:
        messages: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            flat: dict[str, str] = {}
            for file in sorted((directory / lang).glob("*.yaml")):
                data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
                _flatten(file.stem, data, flat)
            messages[lang] = flat
        return cls(messages)

    def has(self, key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
        return key in self.messages.get(lang, {})

    def text(self, lang: str | None, key: str, **params: Any) -> str:
        table = self.messages.get(lang or DEFAULT_LANGUAGE) or self.messages[DEFAULT_LANGUAGE]
        template = table.get(key) or self.messages[DEFAULT_LANGUAGE].get(key)
        if template is None:
            log.warning("missing catalog key %s", key)
            return key
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            log.warning("bad parameters for catalog key %s", key)
            return template
