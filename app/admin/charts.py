"""Small bar charts drawn on the server as SVG: the status page needs no script or chart library."""

from dataclasses import dataclass
from datetime import date

WIDTH = 210
HEIGHT = 120
AXIS = 18  # room under the bars for the day labels
TOP = 14  # room over the tallest bar for its value


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: date
    value: int


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    axis: int = AXIS


def daily_chart(title: str, points: list[tuple[date, int]]) -> Chart:
    """One bar per day, scaled to the busiest day (a day with none keeps a hairline)."""
    peak = max((value for _, value in points), default=0)
    slot = WIDTH / max(len(points), 1)
    plot = HEIGHT - AXIS - TOP
    bars = []
    for index, (day, value) in enumerate(points):
        height = plot * value / peak if peak else 0
        height = max(height, 1.0)
        bars.append(
            Bar(
                x=index * slot + slot * 0.15,
                y=TOP + plot - height,
                width=slot * 0.7,
                height=height,
                day=day,
                value=value,
            )
        )
    return Chart(title=title, bars=bars, total=sum(value for _, value in points), peak=peak)
