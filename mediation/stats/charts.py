"""The dashboard's charts (统计图) as geometry: positions and sizes in SVG user units.

templates/stats/_charts.html only draws what is computed here, so the arithmetic (scales,
ticks, where a bar ends, when a label fits) is plain Python and tested without a browser.
Each chart comes in the widths it is drawn at: ``WIDE`` for a desktop card, ``NARROW`` for
a phone (a 320-unit drawing keeps 13-unit text at about 11 px on a 375 px screen, where a
720-unit one would shrink it to 5 px). A chart with nothing to show still has a scale
(0 to 1) and says so, never dividing by zero.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from babel.dates import format_skeleton
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from mediation.cases.states import Level
from mediation.stats.queries import LEVEL_FIGURES

WIDE, NARROW = 720, 320
WIDE_FONT, NARROW_FONT = 12, 13

# Okabe & Ito's palette, told apart with every common colour-vision deficiency; every
# colour also has its words beside it (a legend or a label).
BLUE, ORANGE, GREEN, GREY = "#0072B2", "#E69F00", "#009E73", "#77736b"
LEVEL_COLOURS = {"grid": GREEN, "community": BLUE, "street": ORANGE}
# Text drawn on each colour, the one with the better contrast.
INK_ON = {GREEN: "#000000", BLUE: "#ffffff", ORANGE: "#000000", GREY: "#ffffff"}


def ticks(top: int, most: int = 5) -> list[int]:
    """Round values from 0 up to ``top`` or just above, in steps of 1, 2 or 5 × 10ⁿ and at
    most ``most`` steps; counts are whole, so the step is at least 1. No data: [0, 1]."""
    if top <= 0:
        return [0, 1]
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            steps = math.ceil(top / step)
            if steps <= most:
                return [i * step for i in range(steps + 1)]
        power *= 10


def scaled(value: float, top: float, length: float) -> float:
    """``value`` as a length on a scale from 0 to ``top`` drawn ``length`` long."""
    return value / top * length if top > 0 else 0.0


def text_width(text: str, size: float) -> float:
    """A safe guess at the drawn width: Chinese characters are square, others at most about
    0.62 of the size in the fonts the stylesheet names."""
    return sum(size if ord(ch) >= 0x2E80 else 0.62 * size for ch in text)


def fit(text: str, width: float, size: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` (the full text stays in the
    table and the bar's tooltip)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label_x: float  # where its value is written
    label_y: float


@dataclass(frozen=True)
class Tick:
    value: int
    at: float  # y on a vertical scale, x on a horizontal one


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str
    x: float
    y: float


@dataclass(frozen=True)
class MonthData:
    """One month's figures with its labels (formatted by the caller, in its language)."""

    short: str  # 6月, Jun
    long: str  # 2026年6月, Jun 2026
    year: int
    received: int
    settled: int


@dataclass
class MonthSlot:
    label: str
    received: Bar
    settled: Bar
    label_x: float
    label_y: float
    show_label: bool = True
    year: int | None = None  # written under the month: the first one and each January


@dataclass
class Trend:
    """Received and settled per month: columns (``rows`` False) or rows of bars."""

    width: float
    height: float
    font: int
    rows: bool
    plot: tuple[float, float, float, float]  # x0, y0, x1, y1
    ticks: list[Tick]
    legend: list[LegendItem]
    months: list[MonthSlot]
    show_values: bool
    empty: bool


def _legend(labels: tuple[str, ...], colours: tuple[str, ...], x: float, y: float,
            font: int) -> list[LegendItem]:
    items = []
    for label, colour in zip(labels, colours, strict=True):
        items.append(LegendItem(label, colour, x, y))
        x += font + 6 + text_width(label, font) + 18
    return items


def trend_columns(months: list[MonthData], legend: tuple[str, str],
                  width: float = WIDE) -> Trend:
    """Side-by-side columns per month on a vertical scale with ticks: the desktop drawing."""
    font = WIDE_FONT
    top = max([0] + [m.received for m in months] + [m.settled for m in months])
    scale = ticks(top)
    x0 = max(44.0, text_width(str(scale[-1]), font) + 12)  # room for the ticks' values
    y0, x1, y1 = 40.0, width - 8.0, 232.0
    plot_h = y1 - y0
    slot = (x1 - x0) / max(len(months), 1)
    bar = min(slot * 0.38, 28.0)
    gap = min(slot * 0.06, 4.0)
    widest = max([text_width(str(v), font) for m in months for v in (m.received, m.settled)]
                 or [0])
    every = max(1, math.ceil((text_width("12月", font) + 8) / slot))
    slots, last_year = [], None
    for i, m in enumerate(months):
        centre = x0 + slot * (i + 0.5)
        bars = []
        for value, x in ((m.received, centre - gap / 2 - bar), (m.settled, centre + gap / 2)):
            h = scaled(value, scale[-1], plot_h)
            bars.append(Bar(x, y1 - h, bar, h, value, x + bar / 2, y1 - h - 4))
        year = m.year if i == 0 or m.year != months[i - 1].year else None
        if year is not None:
            if last_year and centre - last_year[0] < text_width("2026", font) + 8:
                slots[last_year[1]].year = None  # a January beats the first month
            last_year = (centre, i)
        slots.append(MonthSlot(m.short, bars[0], bars[1], centre, y1 + 17,
                               show_label=i % every == 0, year=year))
    return Trend(width, y1 + 40, font, False, (x0, y0, x1, y1),
                 [Tick(v, y1 - scaled(v, scale[-1], plot_h)) for v in scale],
                 _legend(legend, (BLUE, ORANGE), x0, 8, font), slots,
                 show_values=widest <= bar + gap, empty=top == 0)


def trend_rows(months: list[MonthData], legend: tuple[str, str],
               width: float = NARROW) -> Trend:
    """Two bars per month, one row per month, the scale along the bottom: the phone drawing."""
    font = NARROW_FONT
    top = max([0] + [m.received for m in months] + [m.settled for m in months])
    scale = ticks(top, most=4)
    label_w = min(max([text_width(m.long, font) for m in months] or [0]) + 8, 110)
    bar, row = 14.0, 40.0
    x0, y0 = label_w, 34.0
    x1 = width - (text_width(str(top), font) + 10)
    y1 = y0 + row * len(months)
    slots = []
    for i, m in enumerate(months):
        y = y0 + row * i + 4
        bars = []
        for value, by in ((m.received, y), (m.settled, y + bar + 2)):
            w = scaled(value, scale[-1], x1 - x0)
            bars.append(Bar(x0, by, w, bar, value, x0 + w + 4, by + bar - 2))
        slots.append(MonthSlot(fit(m.long, label_w - 6, font), bars[0], bars[1], 0,
                               y + bar + 5))
    return Trend(width, y1 + 24, font, True, (x0, y0, x1, y1),
                 [Tick(v, x0 + scaled(v, scale[-1], x1 - x0)) for v in scale],
                 _legend(legend, (BLUE, ORANGE), 0, 8, font), slots,
                 show_values=True, empty=top == 0)


@dataclass(frozen=True)
class Segment:
    key: str
    value: int
    share: float | None
    colour: str
    ink: str
    x: float
    width: float
    label: str  # its percentage, rounded
    show_label: bool  # which fits inside it


@dataclass
class StackedBar:
    """Settled cases by level as one stacked bar, with a legend line per level."""

    width: float
    height: float
    font: int
    bar_y: float
    bar_h: float
    segments: list[Segment]
    legend_y: list[float]
    bracket: tuple[float, float] | None  # the grid and community part (the headline)
    low_share: float | None
    total: int


def share(counts: list[tuple[str, int]], width: float = NARROW) -> StackedBar:
    """``counts``: (level, settled) from the lowest level up."""
    font = NARROW_FONT
    total = sum(value for _key, value in counts)
    x0, bar_w, bar_y, bar_h = 2.0, width - 4.0, 40.0, 40.0
    segments, x = [], x0
    for key, value in counts:
        w = scaled(value, total, bar_w)
        colour = LEVEL_COLOURS.get(key, GREY)
        label = f"{int(value / total * 100 + 0.5)}%" if total else ""
        segments.append(Segment(key, value, value / total if total else None, colour,
                                INK_ON[colour], x, w, label,
                                show_label=bool(value) and text_width(label, font + 1) + 8 <= w))
        x += w
    low = [s for s in segments if s.key in ("grid", "community")]
    low_sum = sum(s.value for s in low)
    bracket = (x0, x0 + sum(s.width for s in low)) if low_sum else None
    legend_y = [bar_y + bar_h + 30 + 26 * i for i in range(len(counts))]
    return StackedBar(width, legend_y[-1] + 12 if legend_y else bar_y + bar_h + 8, font,
                      bar_y, bar_h, segments, legend_y, bracket,
                      low_sum / total if total else None, total)


@dataclass(frozen=True)
class Arrow:
    """An escalation: a path drawn ``thickness`` wide ending in a head (a polygon)."""

    key: str
    value: int
    path: str
    thickness: float
    head: str  # the polygon's points
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Box:
    key: str
    x: float
    y: float
    width: float
    height: float
    colour: str


@dataclass
class Flow:
    width: float
    height: float
    font: int
    boxes: list[Box]
    arrows: list[Arrow]
    empty: bool


def thickness(value: int, most: int, thinnest: float = 3.0, thickest: float = 16.0) -> float:
    """An arrow's width: proportional above a visible minimum; none for no cases."""
    if value <= 0:
        return 0.0
    return thinnest + scaled(value, most, thickest - thinnest)


def _points(*points: tuple[float, float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def flow(grid_community: int, community_street: int, grid_street: int,
         width: float = NARROW) -> Flow:
    """Three level boxes from top to bottom, an arrow down between neighbours and one round
    the side from grid straight to street; each arrow as wide as its count allows."""
    box_x, box_w, box_h = 8.0, 140.0, 46.0
    tops = {"grid": 6.0, "community": 120.0, "street": 234.0}
    boxes = [Box(key, box_x, y, box_w, box_h, LEVEL_COLOURS[key]) for key, y in tops.items()]
    most = max(grid_community, community_street, grid_street)
    centre, head_len = box_x + box_w / 2, 10.0
    arrows = []
    for key, value, upper, lower in (("grid_community", grid_community, "grid", "community"),
                                     ("community_street", community_street, "community",
                                      "street")):
        t = thickness(value, most)
        start, tip = tops[upper] + box_h, tops[lower]
        half = (t + 12) / 2
        arrows.append(Arrow(key, value, f"M{centre:.1f},{start:.1f} V{tip - head_len:.1f}", t,
                            _points((centre - half, tip - head_len), (centre + half,
                                    tip - head_len), (centre, tip)),
                            centre + max(t / 2, 6) + 10, (start + tip) / 2 + 5))
    t = thickness(grid_street, most)
    right, side = box_x + box_w, box_x + box_w + 52
    y_from, y_to = tops["grid"] + box_h / 2, tops["street"] + box_h / 2
    path = (f"M{right:.1f},{y_from:.1f} H{side - 24:.1f} Q{side:.1f},{y_from:.1f} "
            f"{side:.1f},{y_from + 24:.1f} V{y_to - 24:.1f} Q{side:.1f},{y_to:.1f} "
            f"{side - 24:.1f},{y_to:.1f} H{right + head_len:.1f}")
    half = (t + 12) / 2
    arrows.append(Arrow("grid_street", grid_street, path, t,
                        _points((right + head_len, y_to - half), (right + head_len, y_to + half),
                                (right, y_to)),
                        side + max(t / 2, 6) + 10, (y_from + y_to) / 2))
    return Flow(width, tops["street"] + box_h + 6, NARROW_FONT, boxes, arrows, empty=most == 0)


@dataclass
class CategoryRow:
    label: str  # fitted to its room
    name: str  # in full, for the tooltip
    bar: Bar
    label_x: float
    label_y: float
    colour: str


@dataclass
class Categories:
    width: float
    height: float
    font: int
    stacked: bool  # the name above its bar (phone) or to its left (desktop)
    rows: list[CategoryRow]
    empty: bool


def top_and_other(items: list[tuple[str, int]], most: int = 10,
                  other: Callable[[int], str] = lambda n: f"{n} other"
                  ) -> list[tuple[str, int, bool]]:
    """The ``most`` largest (name, count) with a count, then one line for the rest named
    by ``other(how many)``: (name, count, is_other)."""
    counted = sorted([item for item in items if item[1] > 0], key=lambda item: -item[1])
    rows = [(name, value, False) for name, value in counted[:most]]
    rest = counted[most:]
    if rest:
        rows.append((other(len(rest)), sum(value for _name, value in rest), True))
    return rows


def categories(items: list[tuple[str, int, bool]], stacked: bool,
               width: float | None = None) -> Categories:
    """Horizontal bars of received per category (from :func:`top_and_other`)."""
    font = NARROW_FONT if stacked else WIDE_FONT
    width = width or (NARROW if stacked else WIDE)
    top = max([0] + [value for _name, value, _other in items])
    value_room = text_width(str(top), font) + 10
    rows = []
    if stacked:
        row, bar_h, x0 = 44.0, 14.0, 0.0
        room = width - value_room
        for i, (name, value, is_other) in enumerate(items):
            y = 4 + row * i
            w = scaled(value, top, room)
            rows.append(CategoryRow(fit(name, width, font), name,
                                    Bar(x0, y + 18, w, bar_h, value, x0 + w + 4, y + 18 + 12),
                                    0, y + 13, GREY if is_other else BLUE))
        height = 4 + row * len(items) + 2
    else:
        row, bar_h = 26.0, 18.0
        label_room = min(max([text_width(name, font) for name, _v, _o in items] or [0]), 220)
        x0 = label_room + 12
        room = width - x0 - value_room
        for i, (name, value, is_other) in enumerate(items):
            y = 4 + row * i
            w = scaled(value, top, room)
            rows.append(CategoryRow(fit(name, label_room, font), name,
                                    Bar(x0, y, w, bar_h, value, x0 + w + 4, y + 13),
                                    x0 - 6, y + 13, GREY if is_other else BLUE))
        height = 4 + row * len(items) + 4
    return Categories(width, max(height, 40.0), font, stacked, rows, empty=not items)


@dataclass
class DashboardCharts:
    trend_wide: Trend
    trend_narrow: Trend
    levels: StackedBar
    flow: Flow
    categories_wide: Categories
    categories_narrow: Categories


def for_dashboard(board, locale: str) -> DashboardCharts:
    """The dashboard's charts from its figures (queries.Dashboard), in the page's language."""
    months, language = [], get_locale()
    for m in board.months:
        first = date.fromisoformat(f"{m['month']}-01")
        months.append(MonthData(format_date(first, "LLL"),
                                format_skeleton("yMMM", first, locale=language),
                                first.year, m["received"], m["settled"]))
    legend = (_("Received"), _("Settled"))
    total = board.total
    items = top_and_other([(item["category"].display(locale), item["received"])
                           for item in board.categories],
                          other=lambda n: _("%(n)d other categories", n=n))
    return DashboardCharts(
        trend_columns(months, legend), trend_rows(months, legend),
        share([(level.value, total[LEVEL_FIGURES[level]]) for level in Level]),
        flow(total["escalated_grid_community"], total["escalated_community_street"],
             total["escalated_grid_street"]),
        categories(items, stacked=False), categories(items, stacked=True))
