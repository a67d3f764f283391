"""Chart geometry for the HTML report: numbers in, SVG coordinates out.

The template draws rectangles, lines and labels from these; no markup is built in
Python (so autoescaping covers every label). All charts use a fixed viewBox and
scale to the page width, on screen and on A4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from runner.engine.results import LatencySummary, RunResult
from runner.report.evidence import COLD_KEY, WARM_KEY, number

WIDTH = 900.0  # viewBox width of every chart
LABEL_W = 170.0  # left column for labels
ROW_H = 18.0


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class TimelineBar:
    label: str
    title: str  # tooltip: "wait-result: 3.80 s from +182.4 s"
    x: float
    y: float
    width: float
    cls: str


@dataclass(frozen=True)
class TimelineChart:
    width: float
    height: float
    label_w: float
    plot_w: float
    bars: list[TimelineBar]
    ticks: list[Tick]
    axis_y: float


@dataclass(frozen=True)
class LatencyChart:
    title: str
    width: float
    height: float
    label_w: float
    min_x: float
    max_x: float
    p50_x: float
    p95_x: float
    mid_y: float
    dots: list[float]
    ticks: list[Tick]
    summary: str


@dataclass(frozen=True)
class Bar:
    label: str
    seconds: float
    text: str
    width: float
    cls: str  # "cold" | "warm"


def nice_step(span: float, target_ticks: int = 6) -> float:
    """A round tick spacing (1, 2, 5 x 10^n) giving about `target_ticks` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    base = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * base:
            return float(m * base)
    return float(10 * base)


def _ticks(span: float, plot_w: float, offset: float) -> list[Tick]:
    """Ticks in round seconds, or in round minutes once the span passes three minutes."""
    minutes = span >= 180
    step = nice_step(span / 60) * 60 if minutes else nice_step(span)
    out = []
    n = 0
    while n * step <= span * 1.0001:
        value = n * step
        label = f"{value / 60:g} min" if minutes and value else f"{value:g} s"
        out.append(Tick(x=round(offset + value / span * plot_w, 2), label=label))
        n += 1
    return out


def timeline_chart(result: RunResult) -> TimelineChart:
    """One row per test that ran, a bar from its start to its end on the run's time axis."""
    ran = [t for t in result.tests if t.started_at is not None]
    span = max(result.duration, max((t.duration for t in ran), default=0.0), 1e-3)
    plot_w = WIDTH - LABEL_W - 20
    bars = []
    for i, test in enumerate(ran):
        assert test.started_at is not None
        offset = max((test.started_at - result.started_at).total_seconds(), 0.0)
        x = LABEL_W + offset / span * plot_w
        width = max(test.duration / span * plot_w, 2.0)  # a 0.3 s test stays visible
        bars.append(
            TimelineBar(
                label=test.id,
                title=f"{test.id}: {test.duration:.2f} s at +{offset:.1f} s ({test.status.value})",
                x=round(x, 2),
                y=round(6 + i * ROW_H, 2),
                width=round(min(width, LABEL_W + plot_w - x), 2),
                cls=test.status.value,
            )
        )
    axis_y = 6 + len(ran) * ROW_H + 4
    return TimelineChart(
        width=WIDTH,
        height=axis_y + 22,
        label_w=LABEL_W,
        plot_w=plot_w,
        bars=bars,
        ticks=_ticks(span, plot_w, LABEL_W),
        axis_y=axis_y,
    )


def latency_chart(title: str, lat: LatencySummary) -> LatencyChart:
    """Box (p50..p95), whiskers (min..max) and every sample as a dot."""
    span = max(lat.max * 1.1, 1e-3)
    plot_w = WIDTH - LABEL_W - 20

    def x(v: float) -> float:
        # A negative time (clocks disagreeing) is drawn at 0; the summary shows the value.
        return round(LABEL_W + max(v, 0.0) / span * plot_w, 2)

    return LatencyChart(
        title=title,
        width=WIDTH,
        height=78,
        label_w=LABEL_W,
        min_x=x(lat.min),
        max_x=x(lat.max),
        p50_x=x(lat.p50),
        p95_x=x(lat.p95),
        mid_y=22,
        dots=[x(s) for s in lat.samples],
        ticks=_ticks(span, plot_w, LABEL_W),
        summary=(
            f"n={lat.count}, parallel {lat.parallel}, failures {lat.failures}; "
            f"min {lat.min:.2f} s · p50 {lat.p50:.2f} s · p95 {lat.p95:.2f} s · "
            f"max {lat.max:.2f} s"
        ),
    )


COLD_LABEL_W = 320.0  # "test / step" labels are long


def cold_warm_bars(result: RunResult) -> list[Bar]:
    """Bars for every step that recorded a cold-start or a warm invocation time."""
    found: list[tuple[str, float, str]] = []
    for test in result.tests:
        for step in test.steps:
            for key, cls in ((COLD_KEY, "cold"), (WARM_KEY, "warm")):
                value = number(step.evidence.get(key))
                if value is not None:
                    found.append((f"{test.id} / {step.name}", value, cls))
    top = max((v for _, v, _ in found), default=0.0) or 1.0
    plot_w = WIDTH - COLD_LABEL_W - 120
    return [
        Bar(
            label=label,
            seconds=v,
            text=f"{'cold' if cls == 'cold' else 'warm'} {v:.2f} s",
            width=round(max(v / top * plot_w, 2.0), 2),
            cls=cls,
        )
        for label, v, cls in found
    ]
