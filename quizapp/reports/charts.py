"""Bar charts drawn on the server as SVG geometry (no JavaScript, no CDN)."""

from dataclasses import dataclass

from quizapp.i18n import format_number

WIDTH = 640
BAR_AREA = 520  # pixels for 100 %
ROW = 40


@dataclass
class Bar:
    label: str
    value_text: str
    y: int
    width: float
    below_threshold: bool


@dataclass
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    threshold_x: float | None
    scale_x: float  # where 100 % ends


def rate_chart(items: list[tuple[str, float | None]], threshold: float | None) -> BarChart:
    """Horizontal bars of participation rates (0–1; over 100 % is drawn full and labelled)."""
    bars = []
    for index, (label, rate) in enumerate(items):
        shown = min(max(rate or 0.0, 0.0), 1.0)
        bars.append(
            Bar(
                label=label,
                value_text="—" if rate is None else f"{format_number(rate * 100, 1)} %",
                y=index * ROW,
                width=round(shown * BAR_AREA, 1),
                below_threshold=rate is not None and threshold is not None and rate < threshold,
            )
        )
    threshold_x = round(threshold * BAR_AREA, 1) if threshold else None
    return BarChart(WIDTH, max(len(bars), 1) * ROW + 4, bars, threshold_x, BAR_AREA)
