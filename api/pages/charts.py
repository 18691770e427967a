"""Bar charts drawn on the server as SVG geometry: no chart library, no script, nothing for the CSP to allow."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    baseline: float
    bars: list[Bar]
    max_label: str

    @property
    def summary(self) -> str:
        """The chart in words, for screen readers (the table beside it holds the same numbers)."""
        return "; ".join(f"{b.label}: {b.value}" for b in self.bars)


def bar_chart(
    title: str, values: list[tuple[str, float]], *, top: float | None = None, unit: str = "", width: int = 640
) -> BarChart:
    height, pad_top, pad_bottom, pad_side = 220, 16, 36, 8
    top = top or max((v for _, v in values), default=0) or 1
    plot = height - pad_top - pad_bottom
    slot = (width - 2 * pad_side) / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(values):
        h = plot * min(value, top) / top
        shown = f"{value:.0f}{unit}" if float(value).is_integer() or unit == "%" else f"{value:.1f}{unit}"
        bars.append(Bar(pad_side + i * slot + slot * 0.15, pad_top + plot - h, slot * 0.7, h, label, shown))
    return BarChart(title, width, height, pad_top + plot, bars, f"{top:.0f}{unit}")
