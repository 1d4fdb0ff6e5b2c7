"""GET /api/v1/stats/summary: the statistics page's figures as JSON, for the token's
jurisdiction or an area in it, on the hand-counted June of test_stats_figures."""

import json

import pytest
import test_stats_figures
from api_helpers import API, PROBLEM, bearer, cli_token

from mediation.stats import queries

hand_counted = test_stats_figures.city  # the hand-counted June (a fixture)
JUNE = {"from": "2026-06-01", "to": "2026-06-30"}
URL = f"{API}/stats/summary"


@pytest.fixture
def city(hand_counted, app):
    """The hand-counted city with a token for each of its accounts."""
    hand_counted.tokens = {name: bearer(cli_token(app, name, name=f"{name}的统计"))
                           for name in ("admin", "coordinator", "mediator", "gridworker")}
    return hand_counted


def _get(client, headers, **query):
    return client.get(URL, headers=headers, query_string=query)


def test_the_api_answers_the_page_figures(city, client):
    response = _get(client, city.tokens["coordinator"], **JUNE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["settled_by_level"] == {"grid": 1, "community": 1, "street": 1}
    assert (body["from"], body["to"], body["area"]) == ("2026-06-01", "2026-06-30", None)
    assert (body["received"], body["concluded"], body["settled"], body["partly_settled"],
            body["failed"], body["open"], body["overdue"]) == (7, 7, 3, 1, 1, 2, 1)
    assert body["settlement_rate"] == 0.75
    assert body["settled_at_grid_or_community_share"] == pytest.approx(2 / 3)
    assert body["escalations"] == {"grid_to_community": 2, "community_to_street": 1,
                                   "grid_to_street": 1}
    assert body["handling_days"]["street"] == {"cases": 2, "median": pytest.approx(23),
                                               "p90": pytest.approx(36)}
    assert body["satisfaction"]["rate"] is None
    # The very numbers the dashboard page shows (the same query, the same person).
    page = queries.summary(queries.dashboard(city.coordinator, None,
                                             test_stats_figures.JUNE))
    assert body == json.loads(json.dumps(page))
    # An area within the jurisdiction: its figures only.
    east = _get(client, city.tokens["coordinator"], area=city.east.code, **JUNE).get_json()
    assert (east["area"], east["received"], east["settled"]) == (city.east.code, 4, 2)
    assert east["settled_by_level"] == {"grid": 1, "community": 1, "street": 0}


def test_the_default_period_is_twelve_months_to_today(city, client):
    body = _get(client, city.tokens["admin"], to="2026-06-30").get_json()
    assert (body["from"], body["to"]) == ("2025-07-01", "2026-06-30")
    assert len(body["by_month"]) == 12 and body["received"] == 9  # C in May, J in April too
    body = _get(client, city.tokens["admin"]).get_json()
    assert len(body["by_month"]) == 12 and body["open"] == 2


def test_the_tokens_jurisdiction_is_the_limit(city, client):
    mine = _get(client, city.tokens["mediator"], **JUNE)  # 东苑社区's mediator
    assert mine.status_code == 200
    assert mine.get_json()["received"] == 4
    for area in (city.west.code, city.street.code, "999999", "%"):
        response = _get(client, city.tokens["mediator"], area=area, **JUNE)
        assert response.status_code == 404, area
        assert response.mimetype == PROBLEM and "received" not in response.get_json()
    assert _get(client, city.tokens["admin"], area=city.west.code, **JUNE) \
        .get_json()["received"] == 3


def test_without_the_statistics_permission(city, client):
    response = _get(client, city.tokens["gridworker"], **JUNE)
    assert response.status_code == 403 and response.mimetype == PROBLEM
    assert _get(client, {}, **JUNE).status_code == 401


def test_bad_dates_are_said_in_the_callers_language(city, client):
    headers = city.tokens["coordinator"]
    response = _get(client, {**headers, "Accept-Language": "zh-CN"}, **{
        "from": "2026-06-30", "to": "2026-06-01"})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert response.get_json()["errors"] == [{"field": "to",
                                              "message": "期间的结束日期早于开始日期。"}]
    response = _get(client, {**headers, "Accept-Language": "en"}, **{
        "from": "2026-06-30", "to": "2026-06-01"})
    assert response.get_json()["errors"][0]["message"] == \
        "The end of the period comes before its start."
    response = _get(client, {**headers, "Accept-Language": "zh-CN"}, **{"from": "6月1日"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "from",
                                              "message": "不是有效的日期（YYYY-MM-DD）。"}]
    response = _get(client, headers, **{"from": "2016-01-01", "to": "2026-06-30"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "to"


def test_the_period_rule_is_the_pages(city, client):
    """Period.of: a missing start from the end, a missing end today; out-of-range, inverted
    and over-long periods are a 422 naming the end at fault, in the caller's language."""
    headers = {**city.tokens["coordinator"], "Accept-Language": "zh-CN"}
    body = _get(client, headers, to="2020-01-01").get_json()
    assert (body["from"], body["to"], len(body["by_month"])) == ("2019-02-01", "2020-01-01", 12)
    for query in ({"from": "0001-01-01"}, {"to": "9999-12-31"}):  # the API's dates' own range
        response = _get(client, headers, **query)
        assert response.status_code == 422, query
        assert [error["field"] for error in response.get_json()["errors"]] == list(query)
    for query, field, message in [
            ({"from": "1900-01-01"}, "from", "请选择2000-01-01至2100-12-31之间的日期。"),
            ({"from": "2000-01-01", "to": "2100-12-31"}, "to", "统计期间最长五年。"),
            ({"from": "2019-01-01"}, "from", "统计期间最长五年。"),
            ({"from": "2099-01-01"}, "from", "期间的结束日期早于开始日期。")]:
        response = _get(client, headers, **query)
        assert response.status_code == 422 and response.mimetype == PROBLEM, query
        assert response.get_json()["errors"] == [{"field": field, "message": message}], query
    response = _get(client, {**city.tokens["coordinator"], "Accept-Language": "en"},
                    **{"from": "1900-01-01"})
    assert response.get_json()["errors"][0]["message"] == \
        "Choose dates from 2000-01-01 to 2100-12-31."
