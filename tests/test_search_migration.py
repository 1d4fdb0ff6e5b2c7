"""The revision that puts the hotline's ticket in the searchable text (b1a0d17a0024), over a
database in use: down, the bodies are written without it; up, with it (and their bigrams on
PostgreSQL), so that the queue's search finds the case by its ticket."""

import pytest
from cases_helpers import area, make_case, user
from sqlalchemy import select, text
from test_migrations_with_data import _migrate

from mediation.cases import queries
from mediation.cases.search import CaseSearch, bigrams
from mediation.cases.states import Source
from mediation.extensions import db


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_ticket_revision_writes_the_bodies_of_the_cases_with_a_ticket(demo_city):
    case = make_case(user("mediator"), grid=area("370599001001-01"), source=Source.HOTLINE,
                     hotline_ticket="SD12345-0042")
    db.session.commit()
    case_id, number = case.id, case.number
    others = dict(db.session.execute(select(CaseSearch.case_id, CaseSearch.body)
                                     .where(CaseSearch.case_id != case_id)).all())

    def body() -> str:
        return db.session.scalar(select(CaseSearch.body).where(CaseSearch.case_id == case_id))

    assert "sd12345-0042" in body()
    _migrate("downgrade", "b1a0d17a0023")
    assert "sd12345-0042" not in body() and number in body()
    db.session.commit()

    _migrate("upgrade", "head")
    assert "sd12345-0042" in body()
    if db.engine.dialect.name == "postgresql":
        stored = db.session.scalar(text("SELECT bigrams FROM case_search WHERE case_id = :id"),
                                   {"id": case_id})
        assert sorted(stored) == bigrams(body())
    assert dict(db.session.execute(select(CaseSearch.case_id, CaseSearch.body)
                                   .where(CaseSearch.case_id != case_id)).all()) == others
    db.session.commit()
    found = db.session.scalars(queries.case_list(user("mediator"), queries.Filters(
        queue="all", q="SD12345-0042"))).all()
    assert [c.number for c in found] == [number]
