"""Charts as inline SVG, rendered on the server: no JavaScript, no CDN, readable on a phone and
printable. Labels are escaped; the caller passes plain text."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from handlers.kpi import number
from services.chart import BELOW, MET, NO_TARGET, bar_colour, shared_target

PALETTE = ("#1f6feb", "#d9480f", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#e64980", "#5c940d")
# A mark after a bar's value says in text what its colour says (red and green alone are lost on
# many readers): met / below that unit's own target; no mark without a target.
MARKS = {MET: "✓", BELOW: "✗"}
# (colour, mark, catalog key) of the bar legend under the units-below charts, in that order.
BAR_LEGEND = (
    (MET, MARKS[MET], "web.bars.met"),
    (BELOW, MARKS[BELOW], "web.bars.below"),
    (NO_TARGET, "", "web.bars.no_target"),
)


def _fmt(value: float, percent: bool) -> str:
    """As the tables write numbers (handlers.kpi.number): «53,3%», «1.151»."""
    return number(value) + "%" if percent else number(value, 0)


def bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    targets: Sequence[float | None] | None = None,
    percent: bool = True,
    higher_is_better: bool = True,
    highlight: int | None = None,
    no_data: str = "—",
    width: int = 320,
    label: str = "",
) -> str:
    """Horizontal bars, one per label. With `targets` (one per bar, that unit's own target) each
    bar is coloured against its own target (services.chart.bar_colour, as the digest chart), its
    value followed by the matching MARKS sign, and a dashed line is drawn only when every unit has
    the same target. `label`: the chart's accessible name."""
    row, label_w, pad = 18, 120, 4
    height = max(1, len(labels)) * row + 2 * pad
    own = list(targets) if targets is not None else [None] * len(labels)
    target = shared_target(own) if targets is not None else None
    top = max(
        [v for v in values if v is not None] + [t for t in own if t is not None] + [100 if percent else 1]
    )
    scale = (width - label_w - 56) / top if top else 0  # room for «100% ✓» after the longest bar
    name_attr = f' aria-label="{escape(label)}"' if label else ""
    out = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" width="100%" role="img"{name_attr} '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = pad + i * row
        name = escape(label if len(label) <= 20 else label[:19] + "…")
        out.append(f'<text x="{label_w - 4}" y="{y + 13}" text-anchor="end" font-size="11">{name}</text>')
        if value is None:
            out.append(
                f'<text x="{label_w + 2}" y="{y + 13}" font-size="11" fill="#888">{escape(no_data)}</text>'
            )
            continue
        w = max(1.0, value * scale)
        if i == highlight:
            colour = "#d9480f"
        elif targets is not None:
            colour = bar_colour(value, own[i], higher_is_better)
        else:
            colour = "#1f6feb"
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="{colour}"/>')
        mark = MARKS.get(colour, "")
        shown = escape(_fmt(value, percent)) + (f" {mark}" if mark else "")
        out.append(f'<text x="{label_w + w + 3:.1f}" y="{y + 13}" font-size="11">{shown}</text>')
    if target is not None:
        x = label_w + target * scale
        out.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#c92a2a" '
            f'stroke-dasharray="4 3" stroke-width="1.5"/>'
        )
    out.append("</svg>")
    return "".join(out)


def lines(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    target: Sequence[float | None] | None = None,
    target_label: str = "",
    percent: bool = True,
    width: int = 640,
    height: int = 260,
) -> str:
    """A line per series over the periods, the first series bold (the unit itself), the target as a
    dashed red line; a legend below."""
    left, right, top_pad, bottom = 44, 12, 10, 28
    vals = [v for _, s in series for v in s if v is not None] + [t for t in (target or []) if t is not None]
    floor = 100.0 if percent else 1.0
    top = max([*vals, floor])
    top = top * 1.05
    n = max(1, len(x_labels) - 1)
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / n, top_pad + plot_h * (1 - v / top)

    legend_rows = (len(series) + (1 if target else 0) + 2) // 3
    total_h = height + legend_rows * 16 + 6
    out = [
        f'<svg class="chart lines" viewBox="0 0 {width} {total_h}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for k in range(5):
        v = top / 1.05 * k / 4
        _, y = xy(0, v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{_fmt(v, percent)}</text>'
        )
    step = max(1, len(x_labels) // 6)
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == len(x_labels) - 1:
            x, _ = xy(i, 0)
            at = f'x="{x:.1f}" y="{height - 8}"'
            out.append(f'<text {at} text-anchor="middle" font-size="10">{escape(label)}</text>')

    def path(values: Sequence[float | None]) -> str:
        d, pen = [], "M"
        for i, v in enumerate(values):
            if v is None:
                pen = "M"
                continue
            x, y = xy(i, v)
            d.append(f"{pen}{x:.1f},{y:.1f}")
            pen = "L"
        return " ".join(d)

    legend: list[tuple[str, str, str]] = []
    if target and any(t is not None for t in target):
        style = 'fill="none" stroke="#c92a2a" stroke-width="1.5" stroke-dasharray="5 4"'
        out.append(f'<path d="{path(target)}" {style}/>')
        legend.append((target_label, "#c92a2a", "5 4"))
    for idx, (name, values) in enumerate(series):
        colour = "#111" if idx == 0 else PALETTE[(idx - 1) % len(PALETTE)]
        w = 3 if idx == 0 else 1.5
        out.append(f'<path d="{path(values)}" fill="none" stroke="{colour}" stroke-width="{w}"/>')
        for i, point in enumerate(values):
            if point is not None:
                x, y = xy(i, point)
                out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{w}" fill="{colour}"/>')
        legend.append((name, colour, ""))
    for i, (name, colour, dash) in enumerate(legend):
        lx, ly = 8 + (i % 3) * (width // 3), height + 8 + (i // 3) * 16
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        at = f'x1="{lx}" y1="{ly}" x2="{lx + 18}" y2="{ly}"'
        out.append(f'<line {at} stroke="{colour}" stroke-width="3"{dash_attr}/>')
        short = name if len(name) <= 28 else name[:27] + "…"
        out.append(f'<text x="{lx + 22}" y="{ly + 4}" font-size="11">{escape(short)}</text>')
    out.append("</svg>")
    return "".join(out)
