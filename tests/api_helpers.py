"""Driving the JSON API from outside: tokens from the CLI, request bodies, and a case walked
from intake to an issued agreement with API calls only."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from conftest import DEMO_PASSWORD
from sqlalchemy import select

from mediation.areas.models import Committee
from mediation.core.calendar import is_working_day
from mediation.extensions import db
from mediation.users import operations as user_ops
from mediation.users.roles import Role

LOCAL = ZoneInfo("Asia/Shanghai")
API = "/api/v1"
PROBLEM = "application/problem+json"
GRID = "370599001001-01"  # 文苑社区第1网格 of the demo city
OTHER_GRID = "370599001002-01"  # 清风社区第1网格 (wangjianguo's, not 张志强's)


def cli_token(app, username: str, name: str = "12345热线", days: int | None = None) -> str:
    """A token made by ``flask create-api-token``; the secret is the last line printed."""
    args = ["create-api-token", username, "--name", name]
    if days is not None:
        args += ["--days", str(days)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip().splitlines()[-1]


def other_community_mediator() -> str:
    """王建国 (wangjianguo), mediator of 清风社区 and 明德社区 — not of 文苑社区, where the demo
    mediator's cases are — as the demo's development seed makes him; his username."""
    committees = list(db.session.scalars(select(Committee).where(
        Committee.short_name.in_(["清风社区", "明德社区"]))))
    user_ops.create_user(None, username="wangjianguo", full_name="王建国", role=Role.MEDIATOR,
                         password=DEMO_PASSWORD, committees=committees,
                         must_change_password=False)
    db.session.commit()
    return "wangjianguo"


def bearer(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}


def person(role: str, name: str, **fields) -> dict:
    """A party with every detail a written agreement needs."""
    details = {"role": role, "kind": "person", "name": name, "gender": "male",
               "ethnicity": "汉族", "birth_date": "1975-03-08", "occupation": "职工",
               "phone": "13805461234", "address": "东营市东湖区文苑小区3号楼502室"}
    details.update(fields)
    return details


def case_body(**overrides) -> dict:
    body = {
        "title": "楼上漏水导致天花板受损",
        "source": "hotline",
        "category": "water_leak",
        "grid": GRID,
        "narrative": "3号楼502室卫生间漏水，402室天花板受损，双方就维修费用协商未果。",
        "address": "东营市东湖区文苑小区3号楼",
        "parties": [
            person("applicant", "王建国"),
            person("respondent", "李卫东", gender="female", phone="13905467788",
                   address="东营市东湖区文苑小区3号楼402室"),
        ],
    }
    body.update(overrides)
    return body


def working_slot(days_ahead: int = 7, hour: int = 10) -> tuple[datetime, datetime]:
    """An hour on the first working day at least ``days_ahead`` days from now (holidays and
    make-up working weekends as the app counts them); needs an app context."""
    day = date.today() + timedelta(days=days_ahead)
    while not is_working_day(day):
        day += timedelta(days=1)
    start = datetime.combine(day, time(hour), LOCAL)
    return start, start + timedelta(hours=1)


def session_body(start: datetime, end: datetime, **overrides) -> dict:
    body = {"starts_at": start.isoformat(), "ends_at": end.isoformat(),
            "place_kind": "on_site", "address": "文苑小区3号楼物业办公室",
            "purpose": "听取双方陈述，确定维修方案"}
    body.update(overrides)
    return body


def agreement_body(case: dict, **overrides) -> dict:
    """A complete draft for ``case`` (the API's case document): both parties'
    responsibilities and two terms, the respondent paying the applicant."""
    first, second = case["parties"][0]["id"], case["parties"][1]["id"]
    body = {
        "disputed_matters": "漏水损失的赔偿数额及维修责任。",
        "recorder_name": "刘晓燕",
        "copies": 3,
        "responsibilities": [
            {"party_id": first, "text": "对漏水造成的损失无过错。"},
            {"party_id": second, "text": "卫生间防水层老化未及时维修，对损失负全部责任。"},
        ],
        "terms": [
            {"content": "李卫东赔偿王建国天花板修复费用", "obligor_id": second,
             "obligee_id": first, "amount": "3800", "method": "银行转账",
             "place": "文苑社区人民调解委员会",
             "due_on": (date.today() + timedelta(days=40)).isoformat()},
            {"content": "李卫东于本协议签订后十五日内修复卫生间防水层", "obligor_id": second,
             "method": "自行委托施工", "place": "文苑小区3号楼502室",
             "due_on": (date.today() + timedelta(days=20)).isoformat()},
        ],
    }
    body.update(overrides)
    return body


def post_ok(client, url: str, headers: dict, body: dict | None = None, status: int = 200):
    response = client.post(url, json=body if body is not None else {}, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.get_json())
    return response.get_json()


def case_in_mediation(client, headers: dict, **overrides) -> dict:
    """A case registered, accepted and in mediation, through the API."""
    case = post_ok(client, f"{API}/cases", headers, case_body(**overrides), 201)
    post_ok(client, f"{API}/cases/{case['number']}/accept", headers)
    return post_ok(client, f"{API}/cases/{case['number']}/start", headers)


def issued_agreement(client, headers: dict, case: dict) -> dict:
    draft = post_ok(client, f"{API}/cases/{case['number']}/agreements", headers,
                    agreement_body(case), 201)
    return post_ok(client, f"{API}/agreements/{draft['id']}/issue", headers)


def expect_problem(response, status: int) -> dict:
    """The problem+json body of a refused call, after checking its status and type."""
    assert response.status_code == status, (response.status_code, response.get_data(True)[:500])
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def error_fields(problem: dict) -> set:
    return {error["field"] for error in problem.get("errors", [])}
