"""Charts as PNG bytes (matplotlib, Agg backend, imported only when a chart is drawn)."""

from __future__ import annotations

import io
from collections.abc import Sequence

MET, BELOW, NO_TARGET, NO_DATA = "#2e7d32", "#c62828", "#607d8b", "#bbbbbb"


def bar_colour(value: float | None, target: float | None, higher_is_better: bool = True) -> str:
    """A bar's colour against that unit's own target: green when met, red when not, a neutral
    grey-blue when the unit has no target (nothing to meet is not "met"), light grey without data."""
    if value is None:
        return NO_DATA
    if target is None:
        return NO_TARGET
    met = value >= target if higher_is_better else value <= target
    return MET if met else BELOW


def shared_target(targets: Sequence[float | None]) -> float | None:
    """The one target every unit has (drawn as a single line), or None when they differ or some
    unit has none — then each bar is coloured against its own target and no line is drawn."""
    distinct = {None if t is None else round(t, 6) for t in targets}
    if len(distinct) != 1:
        return None
    (only,) = distinct
    return only


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    targets: Sequence[float | None],
    title: str,
    target_label: str,
    each_target_label: str,
    no_data_label: str,
    width_px: int = 800,
    percent: bool = True,
    higher_is_better: bool = True,
) -> bytes:
    """Horizontal bars (one per unit, best on top), each coloured against that unit's own target
    (`targets`, one per bar); when every unit has the same target it is a vertical line, else the
    legend says the colours compare each unit with its own target. Readable on a phone (~800 px
    wide). Units without data are listed with `no_data_label` and no bar."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    n = max(len(labels), 1)
    height = min(max(2.2 + 0.32 * n, 3.0), 30.0)
    fig = Figure(figsize=(width_px / dpi, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(labels)))[::-1]
    shown = [v if v is not None else 0.0 for v in values]
    colors = [bar_colour(v, t, higher_is_better) for v, t in zip(values, targets, strict=True)]
    ax.barh(ys, shown, color=colors, height=0.7)
    target = shared_target(targets)
    top = max([*(v for v in values if v is not None), *(t for t in targets if t is not None), 10.0])
    for y, v in zip(ys, values, strict=True):
        if v is None:
            text = no_data_label
        else:
            text = f"{v:.1f}".replace(".", ",") if percent else f"{v:,.0f}".replace(",", ".")
        ax.text((v or 0) + top * 0.01, y, text, va="center", fontsize=9)
    ax.set_yticks(ys)
    ax.set_yticklabels([label[:28] for label in labels], fontsize=9)
    ax.set_xlim(0, min(max(top * 1.15, 10), 115) if percent else top * 1.15)
    if target is not None:
        suffix = "%" if percent else ""
        ax.axvline(
            target,
            color="#1565c0",
            linestyle="--",
            linewidth=1.5,
            label=f"{target_label} {target:g}{suffix}".replace(".", ","),
        )
        ax.legend(loc="lower right", fontsize=9)
    elif any(t is not None for t in targets):
        from matplotlib.patches import Patch

        ax.legend(
            handles=[Patch(color=MET), Patch(color=BELOW)],
            labels=["≥", "<"] if higher_is_better else ["≤", ">"],
            title=each_target_label,
            loc="lower right",
            fontsize=9,
            title_fontsize=9,
        )
    ax.set_title(title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
