"""How the FAQ matcher's signals make one ranking and one verdict.

`services.faq.index` finds the candidate entries with the phrase matcher and scores them; the
verdict starts from the thresholds of `MatchSettings` (`threshold_verdict`). `decide` then lets the
two other signals re-order the candidates and move the verdict:

- the whole-text lexical signal (`services.faq.lexical`, BM25) and the learned signal
  (`services.faq.learned`, labelled questions) add to each candidate's score (`fuse`); no entry the
  matcher did not find is added;
- "I don't know" becomes choices when the learned signal puts at least `learned_lift` on the
  ranking's first entry (the people who asked before put such a question there);
- the general rules of `services.faq.guards` cap the verdict (a word no entry knows, a close
  rival's phrase, off-topic talk) — off-topic words cap it at choices only when the learned signal
  lifts the first entry so (they are the story around a real question);
- a direct answer becomes choices when the signals disagree on the first entry, when the learned
  signal puts at least `learned_agree` on another entry, or at least `learned_doubt` on "nothing in
  the base answers this".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from services.faq.guards import Verdict, at_most
from services.faq.learned import Posterior
from services.faq.lexical import fuse
from services.faq.settings import MatchSettings

__all__ = ["decide", "threshold_verdict"]


def threshold_verdict(s: MatchSettings, top: float, second: float, top_coverage: float) -> Verdict:
    """The verdict the matcher's scores alone give: its first entry's score, the runner-up's and
    the share of the question's weight the first entry explains."""
    if top < s.floor or (top < s.weak and top_coverage < s.weak_coverage):
        return Verdict.NONE
    if top >= s.confident and top - second >= s.margin and top_coverage >= s.explained:
        return Verdict.CONFIDENT
    return Verdict.AMBIGUOUS


def decide(
    s: MatchSettings,
    ranked: Sequence[int],
    scores: Mapping[int, float],
    verdict: Verdict,
    lexical: Mapping[int, float] | None,
    learned: Posterior | None,
    cap: Callable[[], Verdict],
) -> tuple[Verdict, list[int]]:
    """The candidates `ranked` by the matcher (entry positions, best first, with their `scores`)
    re-ordered by the other signals, and the verdict `verdict` (the thresholds') moved by them.

    `lexical` is None when that signal is off, `learned` None when the learned one is; `cap`
    computes the guards' cap for the matcher's first entry (only called when it matters)."""
    if lexical is None and learned is None:
        fused = list(ranked)
    else:
        extra = learned.entries if learned is not None else {}
        fused = fuse(ranked, scores, lexical or {}, s.lexical_weight, extra, s.learned_weight)
    best = learned.best() if learned is not None else None
    # The people who asked before put such a question at the ranking's first entry too.
    lifted = best is not None and best[0] == fused[0] and best[1] >= s.learned_lift
    # The first entry is weak for the matcher: offer it among choices (the guards still apply).
    if verdict is Verdict.NONE and lifted:
        verdict = Verdict.AMBIGUOUS
    if verdict is not Verdict.NONE:
        limit = cap()
        # The guards' "I don't know" is off-topic talk ("người yêu", "bóng đá"); in a story that
        # people who asked before tied to this entry ("con với người yêu cũ… nhận là con") it is
        # context, not the topic: choices. Never a direct answer.
        if limit is Verdict.NONE and lifted:
            limit = Verdict.AMBIGUOUS
        verdict = at_most(verdict, limit)
    if fused[0] != ranked[0]:  # the signals disagree on the top: offer choices
        verdict = at_most(verdict, Verdict.AMBIGUOUS)
    if best is not None and best[0] != fused[0] and best[1] >= s.learned_agree:
        verdict = at_most(verdict, Verdict.AMBIGUOUS)
    # Most people who wrote like this asked for something the base lacks: no direct answer.
    if learned is not None and learned.none >= s.learned_doubt:
        verdict = at_most(verdict, Verdict.AMBIGUOUS)
    return verdict, fused
