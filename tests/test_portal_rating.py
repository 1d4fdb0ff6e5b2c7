"""A party rates the service once its case has its outcome (满意度评价): once per party, the
rating reaches the staff's case page and timeline, and a comment stays text."""

import test_portal_status
from cases_helpers import walk_to
from conftest import csrf_from
from sqlalchemy import select
from test_portal_status import opened, party, registered, sms_code

from mediation.cases import operations
from mediation.cases.models import CaseEvent, EventKind
from mediation.cases.states import CaseState
from mediation.extensions import db
from mediation.portal import operations as portal_operations
from mediation.portal.models import Rating, Satisfaction

city = test_portal_status.city  # the demo city with its centre and accounts (a fixture)


def _rate(client, satisfaction: str, comment: str = ""):
    page = client.get("/status/case").get_data(as_text=True)
    return client.post("/status/rating", data={"csrf_token": csrf_from(page),
                                               "satisfaction": satisfaction,
                                               "comment": comment})


def test_a_party_rates_once_after_the_outcome_and_the_mediator_sees_it(city, app, auth):
    client = app.test_client()
    case = registered(city)
    walk_to(case, CaseState.IN_MEDIATION, city.mediator)
    db.session.commit()
    wang = party(case, "王建国")
    page = opened(client, case.number, sms_code(wang))
    assert 'action="/status/rating"' not in page  # still open: nothing to rate yet
    assert _rate(client, "satisfied").status_code == 303
    assert db.session.scalar(select(Rating)) is None
    assert "案件办结后才能评价调解服务。" in client.get("/status/case").get_data(as_text=True)

    operations.transition(case, CaseState.SETTLED, city.mediator, reason="达成协议")
    db.session.commit()
    page = client.get("/status/case").get_data(as_text=True)
    assert 'action="/status/rating"' in page and "基本满意" in page

    assert _rate(client, "").status_code == 303
    assert "请在三项中选择一项。" in client.get("/status/case").get_data(as_text=True)
    hostile = "<script>alert(1)</script>调解员很耐心"
    assert _rate(client, "fairly_satisfied", hostile).status_code == 303
    page = client.get("/status/case").get_data(as_text=True)
    assert "感谢您的评价" in page and "您的评价：基本满意。" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'action="/status/rating"' not in page

    # Once per party: a second try (an old form) changes nothing.
    _rate(client, "unsatisfied", "改主意了")
    db.session.expire_all()
    ratings = list(db.session.scalars(select(Rating)))
    assert [(r.party_id, r.satisfaction) for r in ratings] == [(wang.id, Satisfaction.FAIRLY)]
    assert "您已评价过本案的调解服务" in client.get("/status/case").get_data(as_text=True)

    # The follow-up record: the staff's case page and its timeline.
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.kind == EventKind.FOLLOW_UP))
    assert event.reason.startswith("当事人王建国评价调解服务：基本满意。")
    assert event.data == {"rating": "fairly_satisfied", "party": wang.id}
    auth.login("mediator")
    staff = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "当事人满意度评价" in staff and "王建国</strong>：基本满意" in staff
    assert "<script>alert(1)" not in staff and "&lt;script&gt;alert(1)" in staff

    # The other party rates on its own.
    other = app.test_client()
    opened(other, case.number, sms_code(party(case, "李卫东")))
    assert _rate(other, "unsatisfied").status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(Rating)) == 2


def test_a_rating_sent_twice_at_once_is_refused_without_an_error_page(city, app,
                                                                      monkeypatch):
    """A double tap, or two tabs: both pass the "already rated?" check before either is
    saved, and the unique constraint stops the second."""
    client = app.test_client()
    case = registered(city)
    walk_to(case, CaseState.SETTLED, city.mediator)
    db.session.commit()
    wang = party(case, "王建国")
    opened(client, case.number, sms_code(wang))
    assert _rate(client, "satisfied").status_code == 303
    # The second submission saw no rating yet: only the constraint keeps it out.
    monkeypatch.setattr(portal_operations, "rating_of", lambda party: None)
    response = _rate(client, "unsatisfied", "又点了一次")
    assert response.status_code == 303
    assert response.headers["Location"] == "/status/case#rating"
    monkeypatch.undo()
    page = client.get("/status/case").get_data(as_text=True)
    assert "您已评价过本案的调解服务" in page and "您的评价：满意。" in page
    db.session.expire_all()
    ratings = list(db.session.scalars(select(Rating)))
    assert [(r.party_id, r.satisfaction) for r in ratings] == [(wang.id, Satisfaction.SATISFIED)]
