"""The FAQ matcher's thresholds and weights (`faq:` in config.yaml may override the thresholds)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MatchSettings"]


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Thresholds of the verdict and weights of the score; scores are in [0, 1]."""

    confident: float = 0.7  # top score needed to answer directly
    margin: float = 0.12  # ... and by how much it must beat the runner-up
    explained: float = 0.8  # ... and explain this share of the question's words
    floor: float = 0.4  # below this we don't know
    # A weak top hit that also explains little of the question is a guess, not a choice to offer
    # ("đổi tiền lẻ ở đâu" must not offer three procedures): below both, we don't know.
    weak: float = 0.45
    weak_coverage: float = 0.45
    reach_share: float = 0.4  # part of a phrase's score that depends on how much it explains
    coverage_share: float = 0.4  # part of the score that depends on the entry explaining the rest
    context_weight: float = 0.3  # how much a summary/audience/document word explains one
    unknown_weight: float = 1.2  # weight of a question word no entry knows
    accent_mismatch: float = 0.5  # confidence in a word typed with other marks ("vàng"/"vắng")
    fuzzy_cutoff: float = 0.75  # minimal normalised Levenshtein similarity for a correction
    # An entry whose words explain most of the question scores at least this share of that
    # coverage, even when no single phrase of it is in the question ("sáp nhập rồi căn cước ghi
    # tỉnh cũ" uses words of several phrases). Below `confident`, so it ranks, never answers alone.
    bag_weight: float = 0.55
    # Runners-up within this much of the top score may be what the question means (see guards).
    rival_gap: float = 0.2
    # Entries within this much of the top score are near-ties, ordered by their titles (see ties).
    tie_gap: float = 0.02
    # Weight of the whole-text lexical signal (see lexical) when ranking the matched entries:
    # each gains this share of its BM25 score over the best one's; 0 turns it off. Chosen on the
    # tuning set and blind round 4; 0.1-0.8 all gain (docs/benchmarks.md, issue 17, fifth part).
    lexical_weight: float = 0.6
    # The learned signal (see learned), trained on the labelled questions of `_asked.yaml`: each
    # candidate gains this times its probability; 0 turns the signal off. When the classifier puts
    # at least `learned_lift` on the ranking's first entry, "I don't know" (the thresholds', or the
    # off-topic guard's) becomes choices; when it puts at least `learned_agree` on another entry, or
    # `learned_doubt` on "nothing in the base answers this", a direct answer becomes choices.
    # `learned_smoothing` is the classifier's additive smoothing. Chosen by leave-one-file-out
    # cross-validation (`bench/faq_eval.py --cv`, docs/benchmarks.md, issue 17, sixth and seventh
    # parts); plateaus: smoothing 0.01-0.03 at temperature 5-6, lift 0.7-0.8 for top-1 (0.7 costs two
    # "I don't know" on don't-know questions), agree 0.9-0.95, doubt 0.4-0.7.
    learned_weight: float = 0.2
    learned_temperature: float = 6.0
    learned_smoothing: float = 0.02
    learned_lift: float = 0.8
    learned_agree: float = 0.9
    learned_doubt: float = 0.5
