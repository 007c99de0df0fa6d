"""The message catalog: every user-facing sentence, Vietnamese first, English second.

Files live in `handlers/locales/<lang>/<feature>.yaml`; a key is `<feature>.<path.in.file>`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from services import yamlfile

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


_loaded: dict[tuple[tuple[str, int, int], ...], dict[str, dict[str, str]]] = {}


class Catalog:
    """Loaded once at assembly; `text(lang, key, **params)` formats a sentence."""

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        self.messages = messages

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Catalog:
        """The catalog of `directory`, read once per process while its files stay the same (the
        key is every file's path, size and modification time)."""
        files = {lang: sorted((directory / lang).glob("*.yaml")) for lang in LANGUAGES}
        stats = ((f, f.stat()) for lang in LANGUAGES for f in files[lang])
        key = tuple((str(f), st.st_size, st.st_mtime_ns) for f, st in stats)
        messages = _loaded.get(key)
        if messages is None:
            messages = {}
            for lang in LANGUAGES:
                flat: dict[str, str] = {}
                for file in files[lang]:
                    _flatten(file.stem, yamlfile.load(file.read_text(encoding="utf-8")) or {}, flat)
                messages[lang] = flat
            _loaded.clear()  # one version kept: an edited catalog replaces the old one
            _loaded[key] = messages
        # A copy per catalog: nothing one app does to its tables reaches another's.
        return cls({lang: dict(table) for lang, table in messages.items()})

    def has(self, key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
        return key in self.messages.get(lang, {})

    def text(self, lang: str | None, key: str, **params: Any) -> str:
        table = self.messages.get(lang or DEFAULT_LANGUAGE) or self.messages[DEFAULT_LANGUAGE]
        # «1 people»: a language with a singular gives it as `<key>_one`, used when the count is 1.
        if 1 in (params.get("n"), params.get("count")) and (one := table.get(key + "_one")) is not None:
            key, table = key + "_one", {key + "_one": one}
        template = table.get(key) or self.messages[DEFAULT_LANGUAGE].get(key)
        if template is None:
            log.warning("missing catalog key %s", key)
            return key
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            log.warning("bad parameters for catalog key %s", key)
            return template
