"""Breaking near-ties between entries with their titles.

Two neighbouring entries often score alike: "bị lừa đảo" is in both the scam-spotting and the
scam-victim entries, "người tự xưng công an gọi" in the scam-spotting and the impersonation entries.
The scores come from the topic words only (filler such as "bị" is dropped and synonyms weigh alike),
so they cannot tell them apart; the titles can, because a title names the entry's situation in the
citizen's own words ("Bị lừa đảo, chuyển nhầm tiền…: làm gì ngay?"). Among the entries within `gap`
of the best score, the one whose title shares more of the words as typed (filler included, weighed by rarity)
comes first; the rest keep their order. The verdict is unchanged in kind: a near-tie is never answered
directly, since the margin rule already turns it into choices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from services.faq.entries import FaqEntry
from services.faq.text import canonical_token, normalize_tokens, typed_words

__all__ = ["break_ties", "title_words", "words_of"]


def words_of(text: str) -> frozenset[str]:
    """The words of a text both as typed (folded, nothing dropped: "bị") and normalised (word
    pairs joined: "trước bạ" is one rare word, not "before" and "father")."""
    return frozenset(canonical_token(t.text) for t in typed_words(text)) | frozenset(normalize_tokens(text))


def title_words(entry: FaqEntry) -> frozenset[str]:
    """The words of the entry's title (see `words_of`)."""
    return words_of(entry.title)


def break_ties(
    question: str,
    ranked: Sequence[int],
    scores: Mapping[int, float],
    titles: Sequence[frozenset[str]],
    gap: float,
    weight: Callable[[str], float],
) -> list[int]:
    """`ranked` (indices, best first; `scores` and `titles` by index) with the near-ties of the
    top reordered by the weight (`weight`: rarer words weigh more) of the question's typed words
    their titles hold."""
    if len(ranked) < 2 or gap <= 0.0:
        return list(ranked)
    near = scores[ranked[0]] - gap
    lead = [i for i in ranked if scores[i] >= near]
    if len(lead) < 2:
        return list(ranked)
    words = words_of(question)
    order = {i: n for n, i in enumerate(ranked)}
    lead.sort(key=lambda i: (-sum(weight(w) for w in words & titles[i]), order[i]))
    return lead + [i for i in ranked if scores[i] < near]
