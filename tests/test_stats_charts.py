"""The dashboard's charts: the geometry (mediation/stats/charts.py) on its own, and the SVG
drawn from the hand-counted June of test_stats_figures."""

import re
import xml.etree.ElementTree as ET

import pytest
import test_stats_figures
import test_stats_pages
from cases_helpers import category

from mediation.core.security import CONTENT_SECURITY_POLICY
from mediation.extensions import db
from mediation.stats import charts
from mediation.stats.charts import MonthData

hand_counted = test_stats_figures.city
city = test_stats_pages.city
JUNE = test_stats_pages.JUNE
SVG = "{http://www.w3.org/2000/svg}"


def month(m: int, received: int, settled: int, year: int = 2026) -> MonthData:
    return MonthData(f"{m}月", f"{year}年{m}月", year, received, settled)


# ---- geometry ------------------------------------------------------------------------------

@pytest.mark.parametrize(("top", "expected"), [
    (0, [0, 1]), (-3, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]),
    (10, [0, 2, 4, 6, 8, 10]), (11, [0, 5, 10, 15]), (48, [0, 10, 20, 30, 40, 50]),
    (1234, [0, 500, 1000, 1500]),
])
def test_ticks_are_round_and_cover_the_largest_value(top, expected):
    assert charts.ticks(top) == expected


def test_ticks_for_any_count():
    for top in range(0, 3000, 7):
        values = charts.ticks(top, most=4)
        step = values[1]
        assert values[0] == 0 and values[-1] >= top and len(values) <= 5
        assert values == [i * step for i in range(len(values))]
        assert str(step).rstrip("0") in ("1", "2", "5")


def test_nothing_to_scale_is_no_division_by_zero():
    assert charts.scaled(0, 0, 200) == 0.0
    assert charts.scaled(5, 10, 200) == 100.0
    assert charts.thickness(0, 0) == 0.0


def test_columns_are_as_tall_as_their_values():
    months = [month(5, 4, 2), month(6, 7, 3), month(7, 0, 0)]
    trend = charts.trend_columns(months, ("收", "结"))
    x0, y0, x1, y1 = trend.plot
    may, june, july = trend.months
    assert [t.value for t in trend.ticks] == [0, 2, 4, 6, 8]
    assert trend.ticks[0].at == y1 and trend.ticks[-1].at == y0
    assert june.received.height == pytest.approx((y1 - y0) * 7 / 8)
    assert june.received.height / june.settled.height == pytest.approx(7 / 3)
    assert may.received.height / june.received.height == pytest.approx(4 / 7)
    assert july.received.height == 0 and july.received.y == y1
    for slot in trend.months:  # on the baseline, received left of settled, inside the plot
        for bar in (slot.received, slot.settled):
            assert bar.y + bar.height == pytest.approx(y1)
            assert x0 <= bar.x and bar.x + bar.width <= x1
        assert slot.received.x + slot.received.width <= slot.settled.x
    assert trend.show_values and not trend.empty
    assert [slot.year for slot in trend.months] == [2026, None, None]


def test_crowded_months_thin_their_labels_and_drop_values():
    five_years = [month(m, 120, 100, year) for year in range(2022, 2027) for m in range(1, 13)]
    trend = charts.trend_columns(five_years, ("收", "结"))
    shown = [slot for slot in trend.months if slot.show_label]
    assert 10 <= len(shown) < 60
    assert not trend.show_values  # three digits do not fit over 60 pairs of bars
    assert [slot.year for slot in trend.months if slot.year] == [2022, 2023, 2024, 2025, 2026]
    # A January just after the first month takes its year label.
    december = [month(12, 1, 1, 2025), month(1, 1, 1)] + [month(m, 1, 1) for m in range(2, 13)]
    crowded = charts.trend_columns(december * 5, ("收", "结"))
    assert crowded.months[0].year is None and crowded.months[1].year == 2026


def test_rows_are_as_long_as_their_values():
    trend = charts.trend_rows([month(5, 4, 2), month(6, 7, 3)], ("收", "结"))
    x0, _y0, x1, _y1 = trend.plot
    june = trend.months[1]
    assert june.received.width / june.settled.width == pytest.approx(7 / 3)
    assert june.received.width == pytest.approx((x1 - x0) * 7 / 8)
    assert june.received.x == x0 and june.received.label_x > x0 + june.received.width
    assert x1 + charts.text_width("7", trend.font) < trend.width


def test_an_empty_trend_has_a_scale_and_says_so():
    for draw in (charts.trend_columns, charts.trend_rows):
        trend = draw([month(6, 0, 0)], ("收", "结"))
        assert trend.empty and [t.value for t in trend.ticks] == [0, 1]
        assert trend.months[0].received.height * trend.months[0].received.width == 0
    assert charts.trend_columns([], ("收", "结")).months == []


def test_the_share_of_each_level():
    share = charts.share([("grid", 1), ("community", 1), ("street", 2)])
    grid, community, street = share.segments
    assert sum(s.width for s in share.segments) == pytest.approx(share.width - 4)
    assert street.width == pytest.approx(2 * grid.width)
    assert community.x == pytest.approx(grid.x + grid.width)
    assert (grid.share, street.share, street.label) == (0.25, 0.5, "50%")
    assert share.low_share == 0.5 and share.bracket == (grid.x, street.x)
    # Rounded half up; a sliver has no room for its percentage.
    thin = charts.share([("grid", 1), ("community", 1), ("street", 198)])
    assert thin.segments[2].label == "99%" and thin.segments[2].show_label
    assert not thin.segments[0].show_label
    assert charts.share([("grid", 1), ("community", 0), ("street", 7)]).segments[0].label == "13%"


def test_the_stacked_bar_is_not_the_exports_share():
    """charts.StackedBar is a drawing; exports.Share a number shown as a percentage."""
    from mediation.stats import exports

    assert isinstance(charts.share([("grid", 1)]), charts.StackedBar)
    assert not hasattr(charts, "Share") and issubclass(exports.Share, float)


def test_no_settlement_is_an_empty_share():
    share = charts.share([("grid", 0), ("community", 0), ("street", 0)])
    assert share.total == 0 and share.low_share is None and share.bracket is None
    assert [(s.width, s.share, s.show_label) for s in share.segments] == [(0, None, False)] * 3
    assert charts.share([("grid", 0), ("community", 0), ("street", 3)]).bracket is None


def test_arrows_as_wide_as_their_counts():
    flow = charts.flow(4, 2, 0)
    down, on, direct = flow.arrows
    assert (down.key, down.value, on.value, direct.value) == ("grid_community", 4, 2, 0)
    assert down.thickness == 16 and direct.thickness == 0
    assert 3 < on.thickness < down.thickness
    assert on.thickness - 3 == pytest.approx((down.thickness - 3) / 2)
    assert not flow.empty and charts.flow(0, 0, 0).empty
    assert all(a.thickness == 0 for a in charts.flow(0, 0, 0).arrows)
    boxes = {box.key: box for box in flow.boxes}
    assert boxes["grid"].y < boxes["community"].y < boxes["street"].y
    # Each arrow ends on the box it goes to.
    tip = lambda arrow: tuple(float(v) for v in arrow.head.split()[-1].split(","))  # noqa: E731
    assert tip(down)[1] == boxes["community"].y and tip(on)[1] == boxes["street"].y
    assert tip(direct)[0] == boxes["street"].x + boxes["street"].width
    assert all(a.label_x + charts.text_width("直接上移", 13) <= flow.width for a in flow.arrows)


def test_ten_categories_and_the_rest():
    items = [(f"类别{i}", 20 - i) for i in range(14)] + [("无", 0)]
    rows = charts.top_and_other(items, other=lambda n: f"其他 {n} 类")
    assert len(rows) == 11 and rows[0] == ("类别0", 20, False)
    assert rows[-1] == ("其他 4 类", 10 + 9 + 8 + 7, True)
    assert charts.top_and_other([("甲", 2), ("乙", 0)]) == [("甲", 2, False)]
    for stacked in (False, True):
        chart = charts.categories(rows, stacked=stacked)
        first, second = chart.rows[:2]
        assert first.bar.width / second.bar.width == pytest.approx(20 / 19)
        assert chart.rows[-1].bar.width == max(row.bar.width for row in chart.rows)
        assert chart.rows[-1].colour == charts.GREY and first.colour == charts.BLUE
        for row in chart.rows:
            assert row.bar.label_x + charts.text_width(str(row.bar.value), chart.font) \
                <= chart.width
        assert not chart.empty
    empty = charts.categories([], stacked=True)
    assert empty.empty and empty.rows == [] and empty.height > 0


def test_long_names_are_shortened_to_fit():
    name = "因相邻关系引起的通行、排水、通风、采光纠纷"
    assert charts.fit("噪声", 100, 13) == "噪声"
    short = charts.fit(name, 120, 13)
    assert short.endswith("…") and name.startswith(short[:-1])
    assert charts.text_width(short, 13) <= 120
    assert charts.text_width("Noise", 10) < charts.text_width("噪声扰民", 10)
    chart = charts.categories([(name, 3, False)], stacked=False)
    assert chart.rows[0].name == name and chart.rows[0].label.endswith("…")
    assert chart.rows[0].label_x - charts.text_width(chart.rows[0].label, chart.font) >= 0


# ---- the page ------------------------------------------------------------------------------

def _svgs(page: str) -> dict[str, ET.Element]:
    """The charts in the page, parsed as XML (which they must be)."""
    found = {}
    for source in re.findall(r"<svg\b.*?</svg>", page, flags=re.S):
        svg = ET.fromstring(source)
        found[svg.get("id")] = svg
    return found


def _texts(element: ET.Element, cls: str | None = None) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")
            if cls is None or t.get("class") == cls]


def test_the_dashboard_draws_the_hand_counted_june(city, auth):
    auth.login("coordinator")
    page = auth.client.get(f"/stats/?{JUNE}").get_data(as_text=True)
    svgs = _svgs(page)
    assert set(svgs) == {"trend-chart", "trend-chart-narrow", "levels-chart", "flow-chart",
                         "category-chart", "category-chart-narrow"}
    for name, svg in svgs.items():
        title = svg.find(f"{SVG}title")
        assert svg.get("role") == "img" and svg.get("aria-labelledby") == title.get("id")
        assert title.text and svg.get("viewBox").startswith("0 0 ")
        assert f'id="{svg.get("aria-describedby")}"' in page  # its table
        assert not any("style" in e.attrib for e in svg.iter()), name
    assert "<style" not in page and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    # June: 7 received, 3 settled, in either drawing.
    for name in ("trend-chart", "trend-chart-narrow"):
        assert _texts(svgs[name], "chart-value") == ["7", "3"]
    assert "6月" in _texts(svgs["trend-chart"])
    assert "2026年6月" in _texts(svgs["trend-chart-narrow"])
    assert {"已登记", "调解成功"} <= set(_texts(svgs["trend-chart"]))
    # One settlement at each level: a third each, two thirds at grid or community level.
    levels = _texts(svgs["levels-chart"])
    assert "网格和社区化解：66.7%" in levels
    assert {f"{level}：1 件（33.3%）" for level in ("网格级", "社区级", "街道级")} <= set(levels)
    assert _texts(svgs["levels-chart"], "chart-value") == ["33%"] * 3
    # B and F grid→community, F community→street, C straight to street.
    flow = {g.get("class").split("--")[1]: _texts(g, "chart-value")
            for g in svgs["flow-chart"].iter(f"{SVG}g")}
    assert flow == {"grid_community": ["2"], "community_street": ["1"], "grid_street": ["1"]}
    assert {"网格", "社区", "街道", "直接上移"} <= set(_texts(svgs["flow-chart"]))
    # All seven in one category.
    for name in ("category-chart", "category-chart-narrow"):
        rows = list(svgs[name].iter(f"{SVG}g"))
        assert len(rows) == 1 and _texts(rows[0], "chart-value") == ["7"]


def test_chart_text_is_escaped_and_an_empty_period_still_draws(city, auth):
    category().name = "<script>alert(1)</script>漏水"
    db.session.commit()
    auth.login("coordinator")
    page = auth.client.get(f"/stats/?{JUNE}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert _texts(_svgs(page)["category-chart"])[0] == "<script>alert(1)</script>漏水"
    empty = auth.client.get("/stats/?start=2020-01-01&end=2020-01-31")
    svgs = _svgs(empty.get_data(as_text=True))
    assert len(svgs) == 6 and "本期间没有调解成功的案件。" in _texts(svgs["levels-chart"])
    assert "本期间没有案件。" in _texts(svgs["trend-chart"])
    assert _texts(svgs["flow-chart"], "chart-value") == ["0", "0", "0"]
    auth.logout()
    auth.login("mediator")  # 东苑社区: only its own cases in the charts
    mine = _svgs(auth.client.get(f"/stats/?{JUNE}").get_data(as_text=True))
    assert _texts(mine["trend-chart"], "chart-value") == ["4", "2"]


def test_a_city_sized_scale_keeps_its_values_inside():
    trend = charts.trend_columns([month(6, 123456, 98765)], ("收", "结"))
    x0 = trend.plot[0]
    assert trend.ticks[-1].value >= 123456
    assert x0 - 6 - charts.text_width(str(trend.ticks[-1].value), trend.font) >= 0
    assert not trend.show_values
