"""Citizens' how-to questions in free text, answered from the knowledge base (phone-sized: summary,
numbered steps, then buttons), with 👍/👎 under every answer and /phanhoi for administrators."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handlers.core import Button, Context, ResourceKey
from handlers.handoff_push import StartHandoff
from handlers.router import Router, pass_on
from services import handoff, privacy, small_talk
from services.access import Action
from services.faq import cache as faq_cache
from services.faq import english
from services.faq import feedback as faq_feedback
from services.faq.anonymous import QuestionFilter
from services.faq.entries import FaqEntry
from services.faq.followup import Aspect, aspect_of
from services.faq.index import FaqIndex, MatchSettings, Verdict

router = Router()
FAQ_INDEX: ResourceKey[FaqIndex] = ResourceKey("faq_index")
# Entry ids are slugs of up to 80 characters; payloads must stay within 64 bytes.
_MAX_ID_IN_PAYLOAD = 40


class FaqConfig(BaseModel):
    """The `faq:` config section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    local_dir: str | None = None  # extra entries of the installation, next to knowledge/
    confident: float | None = Field(None, gt=0, le=1)
    margin: float | None = Field(None, ge=0, le=1)
    floor: float | None = Field(None, ge=0, le=1)

    def match_settings(self) -> MatchSettings:
        defaults = MatchSettings()
        return MatchSettings(
            confident=self.confident if self.confident is not None else defaults.confident,
            margin=self.margin if self.margin is not None else defaults.margin,
            floor=self.floor if self.floor is not None else defaults.floor,
        )


def faq_config(config: dict[str, Any] | None) -> FaqConfig:
    raw = (config or {}).get("faq") or {}
    try:
        return FaqConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"faq{'.' + loc if loc else ''}: {err['msg']}") from None


_CACHE: dict[tuple[Any, ...], FaqIndex] = {}


def build_index(
    config: dict[str, Any] | None, shipped: Path, base: Path | None = None, cache_dir: Path | None = None
) -> FaqIndex:
    """Validate the `faq` and `handoff` sections and load the knowledge base (shipped + local).
    ValueError (KnowledgeBaseError is one) names the key or the file. The index is cached per
    set of file versions, so building the app again (tests, CLI) costs nothing; with `cache_dir`,
    also on disk between starts (services.faq.cache)."""
    cfg = faq_config(config)
    handoff.settings_from(config)
    dirs = [shipped]
    if cfg.local_dir:
        local = Path(cfg.local_dir)
        dirs.append(local if local.is_absolute() else (base or Path.cwd()) / local)
    settings = cfg.match_settings()
    stamp: list[Any] = [settings]
    for d in dirs:
        files = sorted(d.glob("*.yaml")) if d.is_dir() else []
        stamp.append((str(d), tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)))
    key = tuple(stamp)
    index = _CACHE.get(key)
    if index is None:
        index = faq_cache.load_or_build(cache_dir, key, lambda: FaqIndex.from_dirs(dirs, settings))
        _CACHE.clear()
        _CACHE[key] = index
    return index


def entry_ref(entry_id: str) -> str:
    """A short, stable reference to an entry for button payloads."""
    if len(entry_id) <= _MAX_ID_IN_PAYLOAD:
        return entry_id
    return "~" + hashlib.sha1(entry_id.encode()).hexdigest()[:12]


def find_entry(index: FaqIndex, ref: str) -> FaqEntry | None:
    if not ref.startswith("~"):
        return index.get(ref)
    return next((e for e in index.entries if entry_ref(e.id) == ref), None)


def _title(ctx: Context, entry: FaqEntry) -> str:
    return entry.title_en if ctx.locale == "en" else entry.title


def _answer_buttons(ctx: Context, entry: FaqEntry, *, details: bool) -> list[list[Button]]:
    ref = entry_ref(entry.id)
    rows: list[list[Button]] = []
    if details:
        rows.append([Button(ctx.t("faq.buttons.details"), f"faq:d:{ref}")])
    if entry.portal_url:
        rows.append([Button(ctx.t(_link_label(entry.portal_url)), url=entry.portal_url)])
    rows.append([Button(ctx.t("faq.buttons.human"), StartHandoff().pack())])
    rows.append(
        [
            Button(ctx.t("faq.buttons.up"), f"faq:v:{ref}:u"),
            Button(ctx.t("faq.buttons.down"), f"faq:v:{ref}:d"),
        ]
    )
    return rows


# Hosts whose button may say "public service portal"; any other official page is just "official page".
_PORTAL_HOSTS = ("dichvucong.", "vneid.gov.vn")


def _link_label(url: str) -> str:
    host = url.split("/")[2]
    return "faq.buttons.portal" if any(h in host for h in _PORTAL_HOSTS) else "faq.buttons.site"


def _numbered(items: Sequence[str]) -> list[str]:
    return [f"{i}. {item}" for i, item in enumerate(items, 1)]


_RANK = {Verdict.NONE: 0, Verdict.AMBIGUOUS: 1, Verdict.CONFIDENT: 2}

# After an answer the chat listens, quietly, for a follow-up about it («mất bao lâu», «ở đâu»).
TOPIC = "faq.topic"


def show_answer(ctx: Context, entry: FaqEntry) -> None:
    """Short summary, numbered steps, then the buttons — fits a phone screen."""
    lines = [ctx.t("faq.answer_title", title=_title(ctx, entry)), *_language_note(ctx), entry.summary]
    lines += ["", ctx.t("faq.steps"), *_numbered(entry.steps)]
    ctx.reply("\n".join(lines), _answer_buttons(ctx, entry, details=True))
    _remember(ctx, entry)


def _language_note(ctx: Context) -> list[str]:
    """The entries are written in Vietnamese only: an English reader is told, not left to wonder."""
    return [ctx.t("faq.written_in_vietnamese")] if ctx.locale != "vi" else []


def _remember(ctx: Context, entry: FaqEntry) -> None:
    if ctx.state_name in (None, TOPIC):  # never over a dialog the person is in
        ctx.goto(TOPIC, entry=entry.id)


@router.state(TOPIC, quiet=True)
async def follow_up(ctx: Context) -> None:
    """A follow-up about the entry just shown is answered from it; anything else is handled as if
    no answer had been shown (a new question, a dossier code, «cảm ơn»…)."""
    index = ctx.resources.get(FAQ_INDEX)
    entry = index.get(str(ctx.state.get("entry", ""))) if index is not None else None
    aspect = aspect_of(ctx.msg.text or "")
    if entry is not None and aspect is not None:
        _answer_aspect(ctx, entry, aspect)
        return
    await pass_on(ctx)


def _answer_aspect(ctx: Context, entry: FaqEntry, aspect: Aspect) -> None:
    title = _title(ctx, entry)
    ref = entry_ref(entry.id)
    buttons = [
        [Button(ctx.t("faq.buttons.details"), f"faq:d:{ref}")],
        [Button(ctx.t("faq.buttons.human"), StartHandoff().pack())],
    ]
    value = {Aspect.TIME: entry.processing_time, Aspect.FEE: entry.fee}.get(aspect)
    if aspect in (Aspect.TIME, Aspect.FEE) and value:
        ctx.reply(ctx.t(f"faq.followup.{aspect.value}", title=title, value=value), buttons)
    elif aspect is Aspect.DOCUMENTS and entry.documents:
        lines = [ctx.t("faq.followup.documents", title=title), *(f"• {d}" for d in entry.documents)]
        ctx.reply("\n".join(lines), buttons)
    elif aspect is Aspect.PLACE:  # every entry says where (at least one place)
        lines = [
            ctx.t("faq.followup.place", title=title),
            *(f"• {ctx.t(f'faq.where.{w.value}')}" for w in entry.where),
        ]
        ctx.reply("\n".join(lines), buttons)
    else:
        what = ctx.t(f"faq.followup.what.{aspect.value}")
        ctx.reply(ctx.t("faq.followup.missing", title=title, what=what), buttons[1:])


def show_details(ctx: Context, entry: FaqEntry) -> None:
    lines = [ctx.t("faq.details_title", title=_title(ctx, entry)), *_language_note(ctx), entry.summary]
    if entry.documents:
        lines += ["", ctx.t("faq.documents"), *(f"• {d}" for d in entry.documents)]
    lines += ["", ctx.t("faq.steps"), *_numbered(entry.steps)]
    if entry.fee:
        lines += ["", ctx.t("faq.fee", fee=entry.fee)]
    if entry.processing_time:
        lines.append(ctx.t("faq.time", time=entry.processing_time))
    if entry.legal_basis:
        lines += ["", ctx.t("faq.legal"), *(f"• {item}" for item in entry.legal_basis)]
    if entry.sources:
        lines += ["", ctx.t("faq.sources")]
        lines += [f"• {src.document} ({src.date:%d/%m/%Y})" for src in entry.sources]
    # An entry flagged `needs_review` must not look checked: say that some details are unchecked.
    reviewed = "faq.reviewed_partly" if entry.needs_review else "faq.reviewed"
    lines += ["", ctx.t(reviewed, date=entry.last_reviewed.strftime("%d/%m/%Y"))]
    ctx.reply("\n".join(lines), _answer_buttons(ctx, entry, details=False))
    _remember(ctx, entry)


@router.text(priority=60)
async def free_text(ctx: Context) -> bool:
    """Any free text outside a dialog is a question; an empty one (only "alo", "ạ"…) is not."""
    index = ctx.resources.get(FAQ_INDEX)
    if index is None:
        return False
    # «Chào bạn! Cảm ơn hôm trước. Cho hỏi …»: the greeting and thanks are no part of the question.
    said = ctx.msg.text or ""
    question = privacy.redact(small_talk.question(said))  # the question log never holds them
    match = index.search(question)
    # Plainly English from someone whose bot speaks Vietnamese (a foreign spouse on Zalo): answered
    # in English this once, with the way to keep it (it was «Xin lỗi, tôi chưa hiểu…»).
    switched = ctx.locale != "en" and english.looks_english(question)
    if switched:
        ctx.answer_locale = "en"
    if ctx.locale == "en":  # the entries are Vietnamese: try the question's English phrases in it too
        translated = index.search(english.to_vietnamese(question))
        if _RANK[translated.verdict] > _RANK[match.verdict]:
            match = translated
    if not any(c.isalpha() for c in match.normalized):
        return False  # nothing to ask about ("2", "???", an emoji): the general fallback answers
    if switched:
        ctx.say("faq.english_hint")
    top = match.top
    answered = top.entry.id if match.verdict is Verdict.CONFIDENT and top else None
    await faq_feedback.log_question(
        ctx.session, match.normalized, match.verdict.value, answered, ctx.now, index.question_filter
    )
    if match.verdict is not Verdict.CONFIDENT and small_talk.thanked(said) and not small_talk.asks(question):
        # «Dạ cảm ơn, sáng mai tôi qua»: thanks and news, no question — not a list of guesses.
        ctx.say("basic.thanks", buttons=[[Button(ctx.t("core.buttons.help"), "core:help")]])
    elif match.verdict is Verdict.CONFIDENT and top is not None:
        show_answer(ctx, top.entry)
    elif match.verdict is Verdict.AMBIGUOUS:
        buttons = [[Button(_title(ctx, h.entry), f"faq:a:{entry_ref(h.entry.id)}")] for h in match.hits[:3]]
        buttons.append([Button(ctx.t("faq.buttons.human"), StartHandoff().pack())])
        ctx.say("faq.choose", buttons=buttons)
    else:
        ctx.say(
            "faq.unknown",
            buttons=[
                [Button(ctx.t("faq.buttons.human"), StartHandoff().pack())],
                [Button(ctx.t("core.buttons.help"), "core:help")],
            ],
        )
    return True


@router.callback("faq")
async def faq_buttons(ctx: Context) -> None:
    parts = (ctx.msg.payload or "").split(":")
    index = ctx.resources.get(FAQ_INDEX)
    entry = find_entry(index, parts[2]) if index is not None and len(parts) >= 3 else None
    if entry is None:
        ctx.say("faq.gone")
        return
    step = parts[1]
    if step == "a":
        show_answer(ctx, entry)
    elif step == "d":
        show_details(ctx, entry)
    elif step == "v" and len(parts) == 4 and parts[3] in ("u", "d"):
        up = parts[3] == "u"
        await faq_feedback.vote(ctx.session, ctx.actor.person_id, entry.id, up, ctx.now)
        if up:
            ctx.say("faq.thanks_up")
        else:
            ctx.say("faq.thanks_down", buttons=[[Button(ctx.t("faq.buttons.human"), StartHandoff().pack())]])
    else:
        ctx.say("core.stale_button")


@router.command("phanhoi", help_key="faq.cmd.phanhoi", action=Action.ADMINISTER, private_only=True)
async def phanhoi(ctx: Context) -> None:
    """👍/👎 per entry and the most frequent unanswered questions."""
    index = ctx.resources.get(FAQ_INDEX)
    known = index.question_filter if index is not None else QuestionFilter(frozenset(), frozenset())
    found, missing = await faq_feedback.report(ctx.session, ctx.actor, known)
    lines = [ctx.t("faq.report.votes_title")]
    for v in found:
        entry = index.get(v.entry_id) if index is not None else None
        title = _title(ctx, entry) if entry is not None else v.entry_id
        lines.append(ctx.t("faq.report.votes_line", title=title, up=v.up, down=v.down))
    if not found:
        lines.append(ctx.t("faq.report.none"))
    lines += ["", ctx.t("faq.report.gaps_title")]
    lines += [ctx.t("faq.report.gaps_line", text=g.normalized, count=g.count) for g in missing]
    if not missing:
        lines.append(ctx.t("faq.report.none"))
    ctx.reply("\n".join(lines))
