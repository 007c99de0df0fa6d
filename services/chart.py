"""Charts as PNG bytes (matplotlib, Agg backend, imported only when a chart is drawn)."""

from __future__ import annotations

import io
from collections.abc import Sequence


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    target: float | None,
    title: str,
    target_label: str,
    no_data_label: str,
    width_px: int = 800,
    percent: bool = True,
) -> bytes:
    """Horizontal bars (one per unit, best on top), the target as a vertical line; readable on a
    phone (~800 px wide). Units without data are listed with `no_data_label` and no bar."""
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
    colors = [
        "#bbbbbb" if v is None else ("#2e7d32" if target is None or v >= target else "#c62828")
        for v in values
    ]
    ax.barh(ys, shown, color=colors, height=0.7)
    top = max([*(v for v in values if v is not None), target or 0, 10.0])
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
            target, color="#1565c0", linestyle="--", linewidth=1.5, label=f"{target_label} {target:g}{suffix}"
        )
        ax.legend(loc="lower right", fontsize=9)
    ax.set_title(title, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
