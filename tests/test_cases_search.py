"""Search at a city's size keeps its meaning: a substring of the case's number, title,
narrative or address, or of a party's name, phone or address — indexed on PostgreSQL (a
GIN index of bigrams for two characters, pg_trgm for more) — inside the searcher's
jurisdiction only; and counts that would read a city's rows stop at "1,000+"."""

from dataclasses import replace
from datetime import timedelta

import pytest
from cases_helpers import applicant, make_case, make_city, respondent, user
from sqlalchemy import func, select, text

from mediation.cases import operations, queries
from mediation.cases.queries import Filters
from mediation.cases.search import CaseSearch, bigrams
from mediation.cases.states import Source
from mediation.core import pages
from mediation.extensions import db


def _found(user, q: str, queue: str = "all") -> set[str]:
    stmt = queries.case_list(user, Filters(queue=queue, q=q))
    return {case.number for case in db.session.scalars(stmt)}


@pytest.fixture
def city(app):
    city = make_city()
    city.leak = make_case(
        city.mediator, title="楼上漏水", address="东苑小区3号楼502室",
        narrative="卫生间漏水，楼下天花板受损，维修费100%由谁承担未谈妥。",
        parties=[applicant("周晓梅", phone="13912345678", address="东苑小区3号楼402室"),
                 respondent("Wang Fang", address="东苑小区3号楼502室")])
    city.noise = make_case(
        city.mediator, title="夜间装修噪声", narrative="晚上十点后仍在装修。",
        parties=[applicant("钱立新", phone="13698765432"), respondent("孙建华")])
    city.west_case = make_case(
        city.admin, grid=city.west_1, title="西苑漏水", narrative="西苑小区楼上漏水。",
        parties=[applicant("周晓梅", phone="13912345678"), respondent("吴桂芳")])
    db.session.commit()
    return city


@pytest.mark.parametrize("q", [
    "漏水",            # two characters of the title and narrative (the bigram index)
    "天花板",          # three of the narrative (pg_trgm)
    "东苑小区3号楼",    # the case's address
    "402室",           # a party's address only
    "周晓梅",          # a party's name
    "晓梅",            # part of it
    "wang fang",       # a Latin name, whatever its case
    "WANG",
    "12345",           # a fragment of a phone
    "139 1234 5678",   # a phone as people type it
    "100%",            # a wildcard character is only itself
])
def test_a_substring_of_any_searchable_field_finds_the_case(city, q):
    assert _found(city.mediator, q) == {city.leak.number}


def test_the_case_number_finds_the_case_and_wildcards_match_nothing_else(city):
    assert _found(city.mediator, city.noise.number) == {city.noise.number}
    assert _found(city.mediator, city.noise.number[-3:]) >= {city.noise.number}
    assert _found(city.mediator, "_") == set() and _found(city.mediator, "%") == {
        city.leak.number}


def test_search_never_reaches_outside_the_jurisdiction(city):
    # The west community's case matches too, but the east community's mediator cannot see it.
    assert _found(city.mediator, "漏水") == {city.leak.number}
    assert _found(city.admin, "漏水") == {city.leak.number, city.west_case.number}
    assert _found(city.gridworker, "西苑") == set()


def test_the_searchable_text_follows_every_change_of_the_case_and_its_parties(city):
    party = city.noise.parties[1]
    operations.update_party(city.mediator, party, replace(
        respondent("孙建华"), name="孙海涛", address="东苑小区9号楼"))
    operations.update_case(city.mediator, city.noise, operations.CaseInput(
        title="夜间施工噪声", source=city.noise.source, grid=city.noise.grid,
        category=city.noise.category, narrative="凌晨施工。", address="东苑小区8号楼"),
        seen_version=None)
    operations.add_party(city.mediator, city.noise, applicant("郑海涛", phone="13611112222"))
    db.session.commit()
    assert _found(city.mediator, "孙建华") == set()
    assert _found(city.mediator, "装修") == set()
    for q in ("孙海涛", "9号楼", "施工", "8号楼", "郑海涛", "1111222"):
        assert _found(city.mediator, q) == {city.noise.number}, q
    body = db.session.scalar(select(CaseSearch.body)
                             .where(CaseSearch.case_id == city.noise.id))
    assert body.count("\n") >= 6 and body == body.lower()


def test_the_hotline_ticket_finds_the_case_as_the_operator_quotes_it(city):
    case = make_case(city.mediator, title="楼道堆物", source=Source.HOTLINE,
                     hotline_ticket="GD20261207-0042", parties=[applicant("冯玉兰")])
    db.session.commit()
    for q in ("GD20261207-0042", "gd20261207-0042", "20261207-0042"):
        assert _found(city.mediator, q) == {case.number}, q
    operations.update_case(city.mediator, case, operations.CaseInput(
        title=case.title, source=Source.HOTLINE, grid=case.grid, category=case.category,
        narrative="楼道里堆放杂物。", hotline_ticket="GD20261207-0099"), seen_version=None)
    db.session.commit()
    assert _found(city.mediator, "0042") == set()
    assert _found(city.mediator, "0099") == {case.number}


def test_a_deleted_case_leaves_no_searchable_text(city):
    db.session.delete(city.noise)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(CaseSearch)) == 2


def test_postgresql_answers_from_the_search_indexes(city):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the GIN indexes are PostgreSQL's")
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    for q, index in (("漏水", "ix_case_search_bigrams"), ("天花板", "ix_case_search_trigrams")):
        stmt = queries.case_list(city.admin, Filters(queue="all", q=q))
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
        assert index in plan, plan
    db.session.rollback()


def test_a_page_shows_the_queues_order_and_the_next_page_goes_on_from_it(city):
    """A page reads its rows' keys first and then the rows: the order, the pages and what
    each row shows are those of the statement read whole."""
    for days, title in ((9, "九天"), (2, "两天"), (5, "五天"), (2, "又两天"), (7, "七天")):
        case = make_case(city.mediator, title=title)
        case.level_deadline = operations.rules.today() + timedelta(days=days)
    db.session.commit()
    stmt = queries.case_list(city.mediator, Filters(queue="all"))
    whole = [case.number for case in db.session.scalars(stmt)]
    assert len(whole) == 7  # the east community's two and these five, soonest deadline first
    # the same day: the later report first
    assert [c.title for c in db.session.scalars(stmt)][:3] == ["又两天", "两天", "五天"]
    seen = []
    for number in (1, 2, 3):
        page = pages.Page(stmt, number, per_page=3, options=queries.LIST_LOADS)
        seen += [case.number for case in page.items]
        assert page.has_next is (number < 3)
        assert all("grid" in case.__dict__ and "category" in case.__dict__
                   for case in page.items)  # loaded with the rows, not one by one
    assert seen == whole
    assert pages.Page(stmt, 4, per_page=3).items == []


def test_counts_stop_at_the_cap_and_say_so(city, monkeypatch):
    stmt = queries.case_list(city.admin, Filters(queue="all"))
    assert pages.capped_count(stmt, cap=2) == pages.Count(2, exact=False)
    assert pages.capped_count(stmt, cap=3) == pages.Count(3, exact=True)
    monkeypatch.setattr(pages, "COUNT_CAP", 2)
    page = pages.Page(stmt, 1, per_page=2)
    assert str(page.total) == "2+" and page.pages is None and page.has_next
    assert len(page.items) == 2
    last = pages.Page(stmt, 2, per_page=2)
    assert len(last.items) == 1 and not last.has_next and last.has_prev


def test_the_queue_page_says_1000_plus_rather_than_counting_everything(demo_city, auth,
                                                                      monkeypatch):
    monkeypatch.setattr(pages, "COUNT_CAP", 2)
    admin = user("admin")
    for _ in range(3):
        make_case(admin, grid="370599001001-01")
    db.session.commit()
    auth.login("admin")
    html = auth.client.get("/cases/", query_string={"queue": "all"}).get_data(as_text=True)
    assert "共 2+ 件" in html and "共 3 件" not in html


def test_postgresql_keeps_the_bigrams_of_every_body(city):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the bigrams column is PostgreSQL's")
    rows = db.session.execute(text("SELECT body, bigrams FROM case_search")).all()
    assert len(rows) == 3
    for body, stored in rows:
        assert sorted(stored) == bigrams(body)
        assert ("漏水" in stored) == ("漏水" in body)


def test_a_case_one_handles_outside_ones_jurisdiction_is_found_too(city):
    """Search reads a jurisdiction's matches by area first: the cases someone handles or
    is assigned to elsewhere are still among them, as they are in the queues."""
    assert _found(city.mediator, "西苑") == set()
    city.west_case.handler = city.mediator
    db.session.commit()
    assert _found(city.mediator, "西苑") == {city.west_case.number}
    assert _found(city.mediator, "漏水") == {city.leak.number, city.west_case.number}
