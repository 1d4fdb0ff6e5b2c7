"""A case's source: "resident's online report" (居民线上申请) is the portal's alone. Staff
cannot choose it on the intake form or through the API, and an edit keeps it."""

import re

import pytest
from api_helpers import API, PROBLEM, bearer, case_body, cli_token
from cases_helpers import applicant, area, category, make_case, respondent, user
from sqlalchemy import func, select

from mediation.cases import operations
from mediation.cases.models import Case
from mediation.cases.operations import CaseInput
from mediation.cases.states import Source
from mediation.core.errors import OperationError
from mediation.extensions import db

GRID = "370599001001-01"
REFUSED = "只有居民在网上自行提交的申请才是“居民线上申请”"


def _cases() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case))


def _options(page: str) -> list[str]:
    select_ = re.search(r'<select[^>]*name="source".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]*)"', select_)


def _selected(page: str) -> str:
    select_ = re.search(r'<select[^>]*name="source".*?</select>', page, re.S).group(0)
    return re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                     select_).group(0)


def _resident_report() -> Case:
    """A resident's own report, as the portal files it (no account: ``by`` None)."""
    case = operations.create_case(None, CaseInput(
        title="楼上装修噪音", source=Source.RESIDENT_REPORT, grid=area(GRID),
        category=category("other"), narrative="楼上每天夜里装修。",
        parties=[applicant("赵桂兰", phone="13905461234")]))
    db.session.commit()
    return case


def _edit(auth, case: Case, **overrides):
    data = {"version": str(case.version), "title": case.title, "source": case.source.value,
            "grid": str(case.grid_id), "category": str(case.category_id),
            "narrative": case.narrative, "address": "", "amount": ""}
    data.update(overrides)
    return auth.post(f"/cases/{case.number}/edit", data)


def test_the_intake_form_does_not_offer_the_residents_report(demo_city, auth):
    auth.login("mediator")
    page = auth.client.get("/cases/new").get_data(as_text=True)
    offered = _options(page)
    assert "resident_report" not in offered and "居民线上申请" not in page
    assert {"grid_patrol", "hotline", "walk_in", "court_referral"} <= set(offered)

    before = _cases()
    response = auth.post("/cases/new", {
        "version": "0", "title": "楼上漏水", "source": "resident_report",
        "grid": str(area(GRID).id), "category": str(category("water_leak").id),
        "narrative": "卫生间漏水。", "applicant-kind": "person", "applicant-name": "李秀英",
        "applicant-ethnicity": "汉族", "respondent-kind": "person"})
    assert response.status_code == 200  # the form again, with its message
    assert _cases() == before


def test_the_operation_refuses_it_to_staff(demo_city):
    with pytest.raises(OperationError) as refused:
        make_case(user("mediator"), grid=GRID, source=Source.RESIDENT_REPORT)
    assert refused.value.field == "source"
    db.session.rollback()
    staff = make_case(user("mediator"), grid=GRID)
    with pytest.raises(OperationError) as refused:
        operations.update_case(user("mediator"), staff, CaseInput(
            title=staff.title, source=Source.RESIDENT_REPORT, grid=staff.grid,
            category=staff.category, narrative=staff.narrative), staff.version)
    assert refused.value.field == "source"


def test_the_api_refuses_it_with_a_clear_422(demo_city, client):
    headers = bearer(cli_token(demo_city, "mediator"))
    before = _cases()
    response = client.post(f"{API}/cases", json=case_body(source="resident_report"),
                           headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    problem = response.get_json()
    assert REFUSED in problem["detail"]
    assert problem["errors"] == [{"field": "source", "message": problem["detail"]}]
    assert _cases() == before
    # Documented: the API's sources are the staff's.
    spec = client.get(f"{API}/openapi.json").get_json()
    documented = spec["components"]["schemas"]["CaseIn"]["properties"]["source"]["enum"]
    assert "resident_report" not in documented and "hotline" in documented
    assert client.post(f"{API}/cases", json=case_body(), headers=headers).status_code == 201


def test_editing_a_residents_report_keeps_its_source(demo_city, auth):
    case = _resident_report()
    auth.login("gridworker")
    page = auth.client.get(f"/cases/{case.number}/edit").get_data(as_text=True)
    assert _options(page) == ["resident_report"] and "居民线上申请" in page
    assert "resident_report" in _selected(page)

    assert _edit(auth, case, title="楼上深夜装修噪音").status_code == 302
    db.session.expire_all()
    assert (case.title, case.source) == ("楼上深夜装修噪音", Source.RESIDENT_REPORT)
    # Nor can it be made into another source.
    response = _edit(auth, case, source="walk_in")
    assert response.status_code == 200
    db.session.expire_all()
    assert case.source is Source.RESIDENT_REPORT
    with pytest.raises(OperationError) as refused:
        operations.update_case(user("gridworker"), case, CaseInput(
            title=case.title, source=Source.WALK_IN, grid=case.grid, category=case.category,
            narrative=case.narrative), case.version)
    assert "保持为“居民线上申请”" in str(refused.value.message)

    # A staff case's edit form offers the staff's sources only.
    staff = make_case(user("gridworker"), grid=GRID, parties=[applicant(), respondent()])
    db.session.commit()
    page = auth.client.get(f"/cases/{staff.number}/edit").get_data(as_text=True)
    assert "resident_report" not in _options(page) and "grid_patrol" in _options(page)
