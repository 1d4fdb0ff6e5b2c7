"""GET /api/v1/cases for clients at a city's scale: ``q`` searches as the queue page does,
and ``cursor`` walks every case once, by id, within the token's jurisdiction."""

import re

import pytest
from api_helpers import (
    API,
    GRID,
    OTHER_GRID,
    bearer,
    case_body,
    cli_token,
    other_community_mediator,
    person,
    post_ok,
)
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from cases_helpers import make_case, walk_to
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from mediation.cases import access
from mediation.cases.models import Case
from mediation.cases.states import CaseState
from mediation.extensions import db
from mediation.users.models import User

CJK = re.compile(r"[\u4e00-\u9fff]")
GRID_2 = "370599001001-02"  # 文苑社区第2网格


@pytest.fixture
def mediator(demo_city):
    """The demo mediator 张志强 (文苑社区) through a token from the CLI, with 23 cases of
    文苑社区 in several states to page through."""
    user = db.session.scalar(select(User).where(User.username == "mediator"))
    for n in range(23):
        case = make_case(user, title=f"文苑社区第{n + 1}件纠纷", grid=GRID if n % 2 else GRID_2)
        if n % 5 == 0:
            walk_to(case, CaseState.CLOSED, user)
    db.session.commit()
    return bearer(cli_token(demo_city, "mediator"))


@pytest.fixture
def outsider(demo_city):
    """王建国 (wangjianguo), mediator of 清风社区 and 明德社区, with a token of his own."""
    return bearer(cli_token(demo_city, other_community_mediator(), name="清风社区平板"))


def _numbers(client, headers, **query) -> list[str]:
    response = client.get(f"{API}/cases", query_string={"per_page": 100, **query},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return [case["number"] for case in response.get_json()["items"]]


def _visible(username: str, **where) -> set[str]:
    """The numbers of the cases the account may see, straight from the scope."""
    user = db.session.scalar(select(User).where(User.username == username))
    stmt = access.visible_cases(user, select(Case.number))
    for name, value in where.items():
        stmt = stmt.where(getattr(Case, name) == value)
    return set(db.session.scalars(stmt))


def _walk(client, headers, per_page: int, between=None, **query) -> list[str]:
    """Every page by cursor from ``*`` to a null next_cursor; ``between(page)`` after each."""
    numbers, cursor, pages = [], "*", 0
    while cursor is not None:
        response = client.get(f"{API}/cases", query_string={
            "cursor": cursor, "per_page": per_page, **query}, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "per_page", "next_cursor"}
        assert len(body["items"]) <= per_page
        numbers += [case["number"] for case in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
        assert cursor is None or len(body["items"]) == per_page
        if between:
            between(pages)
        assert pages < 1000
    return numbers


# ---- q -------------------------------------------------------------------------------------

def test_q_finds_a_case_by_a_party_name_a_phone_or_its_number(client, mediator):
    case = post_ok(client, f"{API}/cases", mediator, case_body(
        title="阳台晾衣杆坠落砸坏雨棚", parties=[
            person("applicant", "欧阳子轩", phone="13966612345"),
            person("respondent", "司马青云", phone="13877700001")]), 201)
    other = post_ok(client, f"{API}/cases", mediator, case_body(), 201)

    assert case["number"] in _numbers(client, mediator, q="阳子")  # a fragment of a name
    assert case["number"] in _numbers(client, mediator, q="司马青")
    assert case["number"] in _numbers(client, mediator, q="6661234")  # of a phone
    assert case["number"] in _numbers(client, mediator, q="晾衣杆")  # of the title
    assert _numbers(client, mediator, q=case["number"]) == [case["number"]]
    assert other["number"] not in _numbers(client, mediator, q="欧阳子轩")
    assert _numbers(client, mediator, q="从未出现过的当事人") == []
    # With the other filters, and counted in the page's total.
    response = client.get(f"{API}/cases", query_string={"q": "阳子", "state": "reported"},
                          headers=mediator).get_json()
    assert [c["number"] for c in response["items"]] == [case["number"]]
    assert response["total"] == 1
    assert _numbers(client, mediator, q="阳子", state="accepted") == []
    # Blank is no search at all.
    assert set(_numbers(client, mediator, q="  ")) == set(_numbers(client, mediator))


def test_q_never_reaches_outside_the_tokens_jurisdiction(client, mediator, outsider):
    parties = [person("applicant", "上官婉清", phone="13955501234"),
               person("respondent", "诸葛明远", phone="13955505678")]
    ours = post_ok(client, f"{API}/cases", mediator, case_body(parties=parties), 201)
    theirs = post_ok(client, f"{API}/cases", outsider, case_body(grid=OTHER_GRID,
                                                                 parties=parties), 201)

    for q in ("婉清", "上官婉清", "诸葛", "1395550", ours["number"]):
        assert theirs["number"] not in _numbers(client, mediator, q=q), q
        assert ours["number"] not in _numbers(client, outsider, q=q), q
    assert _numbers(client, mediator, q="婉清") == [ours["number"]]
    assert _numbers(client, outsider, q="婉清") == [theirs["number"]]
    assert _numbers(client, outsider, q=ours["number"]) == []
    # Whatever the outsider searches, only his own cases come back.
    mine = _visible("wangjianguo")
    for q in ("漏水", "王", "138", "2026", "文苑"):
        assert set(_numbers(client, outsider, q=q)) <= mine, q


# ---- cursor --------------------------------------------------------------------------------

def test_a_cursor_walk_returns_every_visible_case_exactly_once(client, mediator, outsider):
    theirs = post_ok(client, f"{API}/cases", outsider, case_body(grid=OTHER_GRID), 201)
    visible = _visible("mediator")
    assert len(visible) > 20  # the demo's cases of 文苑社区: several pages

    walked = _walk(client, mediator, per_page=7)
    assert len(walked) == len(set(walked)) == len(visible)
    assert set(walked) == visible and theirs["number"] not in walked
    ids = [db.session.scalar(select(Case.id).where(Case.number == n)) for n in walked]
    assert ids == sorted(ids)  # by id: a case changed meanwhile does not move

    # The same filters as the pages; the outsider walks his own cases only.
    assert set(_walk(client, mediator, per_page=5, state="closed")) == _visible(
        "mediator", state=CaseState.CLOSED)
    assert set(_walk(client, outsider, per_page=3)) == _visible("wangjianguo")
    assert theirs["number"] in _walk(client, outsider, per_page=100, q=theirs["number"])
    assert _walk(client, mediator, per_page=100, q=theirs["number"]) == []


def test_cases_changed_or_added_during_a_walk_come_once(client, mediator):
    first_page = []

    def meanwhile(pages):
        if pages == 1:  # touch a case already read, and register a new one
            first_page.append(post_ok(client, f"{API}/cases", mediator, case_body(), 201))
            touched = min(_visible("mediator", state=CaseState.REPORTED))
            post_ok(client, f"{API}/cases/{touched}/accept", mediator)

    walked = _walk(client, mediator, per_page=10, between=meanwhile)
    assert len(walked) == len(set(walked))
    assert first_page[0]["number"] in walked  # added after the last id read: comes at the end
    assert set(walked) == _visible("mediator")


def test_a_tampered_cursor_is_a_400_in_the_callers_language(client, mediator, demo_city):
    body = client.get(f"{API}/cases", query_string={"cursor": "*", "per_page": 2},
                      headers=mediator).get_json()
    cursor = body["next_cursor"]
    assert cursor and body["items"]
    assert client.get(f"{API}/cases", query_string={"cursor": cursor},
                      headers=mediator).status_code == 200

    forged = URLSafeSerializer("not the app's key", salt="api.cases.cursor").dumps(1)
    elsewhere = URLSafeSerializer(demo_city.secret_key, salt="another.purpose").dumps(1)
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    for bad in (flipped, "x" + cursor, cursor.split(".")[0], forged, elsewhere, "0", "",
                "1; DROP TABLE cases", "*" * 5):
        problem = _problem(client.get(f"{API}/cases", query_string={"cursor": bad},
                                      headers=mediator), 400)
        assert _fields(problem) == {"cursor"}, bad
        assert CJK.search(problem["detail"]), problem  # Chinese by default
    english = _problem(client.get(f"{API}/cases", query_string={"cursor": flipped},
                                  headers={**mediator, "Accept-Language": "en"}), 400)
    assert english["detail"].startswith("The cursor is not valid")

    both = _problem(client.get(f"{API}/cases", query_string={"cursor": "*", "page": 2},
                               headers=mediator), 422)
    assert _fields(both) == {"page"}


def test_pages_without_a_cursor_are_as_before(client, mediator):
    body = client.get(f"{API}/cases", query_string={"per_page": 3, "page": 2},
                      headers=mediator).get_json()
    assert set(body) == {"items", "total", "total_exact", "page", "per_page"}
    assert (body["page"], body["per_page"], len(body["items"])) == (2, 3, 3)
    assert body["total"] == len(_visible("mediator"))


def test_the_openapi_document_describes_q_and_the_cursor(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    operation = spec["paths"][f"{API}/cases"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"q", "cursor", "page", "per_page"} <= set(parameters)
    assert "*" in parameters["cursor"]["description"]
    assert "400" in operation["responses"]
    page = spec["components"]["schemas"]["CasePage"]["properties"]
    assert page["next_cursor"]["nullable"] is True


def test_the_page_total_stops_at_the_cap_and_says_it_is_not_exact(client, mediator,
                                                                    monkeypatch):
    """A city's total is not counted on every call: above the cap the page says so."""
    from mediation.core import pages
    full = client.get(f"{API}/cases", headers=mediator).get_json()
    assert (full["total"], full["total_exact"]) == (23, True)
    monkeypatch.setattr(pages, "COUNT_CAP", 10)
    capped = client.get(f"{API}/cases", query_string={"per_page": 5, "page": 3},
                        headers=mediator).get_json()
    assert (capped["total"], capped["total_exact"]) == (10, False)
    assert len(capped["items"]) == 5  # the pages themselves go on past the cap
