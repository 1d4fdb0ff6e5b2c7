"""The webhooks admin page (administrators only; a secret shown once; hostile text stays
text; the address checked in Chinese; the delivery log, pause and resume), and the hotline's
ticket number: checked, taken on the intake form and through the API, shown, and repeated
in every delivery about its case."""

import re

import pytest
import test_webhooks as webhook_tests
from api_helpers import API, bearer, case_body, cli_token, error_fields, expect_problem
from cases_helpers import area, make_case, user
from conftest import Auth
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from test_cases_pages import _intake
from test_webhooks import TICKET, run

from mediation.cases.models import Case
from mediation.cases.operations import check_hotline_ticket
from mediation.cases.states import Source
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.webhooks import operations
from mediation.webhooks.models import WebhookSubscriber
from mediation.webhooks.operations import SubscriberInput

receiver = webhook_tests.receiver
COMMUNITY = "370599001001"  # 文苑社区 of the demo city
HOSTILE_NAME = '<script>alert("x")</script>热线'
HOSTILE_URL = 'https://hotline.example.gov.cn/in?q="><svg/onload=alert(1)>'


def register(auth: Auth, **fields):
    data = {"name": "12345热线", "url": "https://hotline.example.gov.cn/events",
            "event_types": ["case.created", "case.closed"], "area": COMMUNITY}
    data.update(fields)
    return auth.post("/admin/webhooks/", data)


def errors_of(html: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def subscribed(receiver_, url=None) -> WebhookSubscriber:
    subscriber, secret = operations.create_subscriber(user("admin"), SubscriberInput(
        name="12345热线", url=url or receiver_.url, event_types=["case.created"]))
    db.session.commit()
    receiver_.secret = secret
    return subscriber


@pytest.mark.parametrize("username", [None, "mediator", "coordinator", "gridworker"])
def test_the_page_is_for_administrators_only(demo_city, client, username):
    auth = Auth(client)
    if username:
        auth.login(username)
    subscriber, _secret = operations.create_subscriber(user("admin"), SubscriberInput(
        name="12345热线", url="https://hotline.example.gov.cn/events",
        event_types=["case.created"]))
    db.session.commit()
    stored = subscriber.secret_encrypted
    for url in ["/admin/webhooks/", f"/admin/webhooks/{subscriber.id}"]:
        answer = client.get(url)
        assert answer.status_code == (403 if username else 302), url
        if not username:
            assert answer.headers["Location"].startswith("/login")
    if username:
        for action in ("secret", "pause", "delete"):
            answer = client.post(f"/admin/webhooks/{subscriber.id}/{action}",
                                 data={"csrf_token": auth.token("/"), "confirmed": "yes"})
            assert answer.status_code == 403, action
        assert "/admin/webhooks/" not in client.get("/").get_data(as_text=True)
    db.session.expire_all()
    subscriber = db.session.get(WebhookSubscriber, subscriber.id)
    assert subscriber.secret_encrypted == stored and not subscriber.paused


def test_a_subscriber_is_registered_its_secret_shown_once_and_hostile_text_stays_text(
        demo_city, client):
    auth = Auth(client)
    auth.login("admin")
    answer = register(auth, name=HOSTILE_NAME, url=HOSTILE_URL)
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    secret = re.search(r'id="new-secret">(whsec_[\w-]+)<', html).group(1)
    subscriber = db.session.scalar(select(WebhookSubscriber))
    assert operations.secret_of(subscriber) == secret
    assert secret not in subscriber.secret_encrypted
    assert subscriber.event_types == ["case.created", "case.closed"]
    assert subscriber.area.code == COMMUNITY
    for page in (html, client.get("/admin/webhooks/").get_data(as_text=True),
                 client.get(f"/admin/webhooks/{subscriber.id}").get_data(as_text=True)):
        assert "<script>alert" not in page and "<svg/onload" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;热线" in page
        assert "&lt;svg/onload=alert(1)&gt;" in page
    # Shown once: never on a page again.
    assert secret not in client.get("/admin/webhooks/").get_data(as_text=True)
    assert secret not in client.get(f"/admin/webhooks/{subscriber.id}").get_data(as_text=True)

    # A new secret replaces it, shown once too.
    assert auth.post(f"/admin/webhooks/{subscriber.id}/secret",
                     form_url=f"/admin/webhooks/{subscriber.id}").status_code == 400
    answer = auth.post(f"/admin/webhooks/{subscriber.id}/secret", {"confirmed": "yes"},
                       form_url=f"/admin/webhooks/{subscriber.id}")
    new = re.search(r'id="new-secret">(whsec_[\w-]+)<', answer.get_data(as_text=True)).group(1)
    db.session.expire_all()
    assert new != secret and operations.secret_of(subscriber) == new


REFUSALS = [
    ({"url": "ftp://hotline.example.gov.cn/in"}, "url", "必须以 https:// 或 http:// 开头"),
    ({"url": "hotline.example.gov.cn/in"}, "url", "必须以 https:// 或 http:// 开头"),
    ({"url": "javascript:alert(1)"}, "url", "必须以 https:// 或 http:// 开头"),
    ({"url": "https:///in"}, "url", "没有主机名"),
    ({"url": "https://user:secret@hotline.example.gov.cn/in"}, "url", "用户名或密码"),
    ({"url": "https://hotline.example.gov.cn:99999/in"}, "url", "端口"),
    ({"url": "https://hotline.example.gov.cn/a b"}, "url", "空格"),
    ({"url": "http://169.254.169.254/latest/meta-data"}, "url", "事件只推送到公网地址"),
    ({"url": "http://10.0.0.7:6379/"}, "url", "事件只推送到公网地址"),
    ({"url": ""}, "url", "必填"),
    ({"name": " "}, "name", "必填"),
    ({"event_types": []}, "event_types", "请选择订阅方接收的事件"),
    ({"event_types": ["case.created", "case.deleted"]}, "event_types", "请选择订阅方接收的事件"),
    ({"area": "370599001001-01"}, "area", "全市、区、街道或社区"),
    ({"area": "999999"}, "area", "没有这个编码"),
]


def test_what_is_registered_is_checked_and_refused_in_chinese(demo_city, client):
    auth = Auth(client)
    auth.login("admin")
    for fields, field, message in REFUSALS:
        answer = register(auth, **fields)
        assert answer.status_code == 422, fields
        assert message in errors_of(answer.get_data(as_text=True), field), fields
    assert db.session.scalar(select(WebhookSubscriber)) is None


def test_the_log_shows_each_attempt_and_the_page_pauses_and_resumes(demo_city, client,
                                                                   receiver):
    subscriber = subscribed(receiver)
    case = make_case(user("mediator"), grid=area("370599001001-01"))
    db.session.commit()
    receiver.answers = [500]
    at = utcnow()
    run(receiver, at)
    auth = Auth(client)
    auth.login("admin")
    page = client.get(f"/admin/webhooks/{subscriber.id}").get_data(as_text=True)
    event_id = receiver.received[0].event_id
    log = page[page.index('id="log"'):]
    assert "HTTP 500" in log and event_id in log and case.number in log
    assert "案件登记" in log  # the event, by its title

    answer = auth.post(f"/admin/webhooks/{subscriber.id}/pause",
                       form_url=f"/admin/webhooks/{subscriber.id}", follow_redirects=True)
    assert "已暂停" in answer.get_data(as_text=True)
    assert run(receiver, at + webhook_tests.delivery.wait_after(1)).attempts == 0
    answer = auth.post(f"/admin/webhooks/{subscriber.id}/resume",
                       form_url=f"/admin/webhooks/{subscriber.id}", follow_redirects=True)
    assert "已暂停" not in answer.get_data(as_text=True).split('id="log"')[0]
    assert run(receiver, utcnow()).delivered == 1
    log = client.get(f"/admin/webhooks/{subscriber.id}").get_data(as_text=True)
    log = log[log.index('id="log"'):]
    assert "HTTP 200" in log and "已送达" in log and "已放弃" not in log
    page = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "12345热线" in page

    # Removing it takes its deliveries and log with it (a confirmed step).
    assert auth.post(f"/admin/webhooks/{subscriber.id}/delete",
                     form_url=f"/admin/webhooks/{subscriber.id}").status_code == 400
    answer = auth.post(f"/admin/webhooks/{subscriber.id}/delete", {"confirmed": "yes"},
                       form_url=f"/admin/webhooks/{subscriber.id}")
    assert answer.status_code == 302
    assert db.session.scalar(select(WebhookSubscriber)) is None


# ---- the hotline's ticket number ----------------------------------------------------------

def test_the_ticket_number_is_checked(english):
    assert check_hotline_ticket(Source.HOTLINE, " SD12345-0042 ") == "SD12345-0042"
    assert check_hotline_ticket(Source.HOTLINE, "ＳＤ１２３４５－００４２") == "SD12345-0042"
    assert check_hotline_ticket(Source.WALK_IN, " ") is None
    assert check_hotline_ticket(Source.HOTLINE, None) is None
    for source, ticket, message in [
            (Source.WALK_IN, "SD12345", "Only a case from the 12345 hotline"),
            (Source.HOTLINE, "SD 12345", "letters, digits"),
            (Source.HOTLINE, "工单12345", "letters, digits"),
            (Source.HOTLINE, "A" * 41, "at most 40")]:
        with pytest.raises(OperationError, match=message) as refused:
            check_hotline_ticket(source, ticket)
        assert refused.value.field == "hotline_ticket"


def test_the_database_keeps_tickets_to_hotline_cases(demo_city):
    case = make_case(user("mediator"), grid=area("370599001001-01"), source=Source.WALK_IN)
    db.session.commit()
    with pytest.raises(IntegrityError, match="ck_cases_hotline_ticket_of_hotline"):
        db.session.execute(text("UPDATE cases SET hotline_ticket = 'SD1' WHERE id = :id"),
                           {"id": case.id})
    db.session.rollback()


def test_the_intake_form_takes_the_ticket_and_the_case_page_shows_it(demo_city, client):
    auth = Auth(client)
    auth.login("mediator")
    refused = _intake(auth, source="walk_in", hotline_ticket=TICKET)
    assert "只有来自12345热线的案件" in errors_of(refused.get_data(as_text=True), "hotline_ticket")
    refused = _intake(auth, source="hotline", hotline_ticket="SD 12345")
    assert "字母、数字" in errors_of(refused.get_data(as_text=True), "hotline_ticket")
    assert db.session.scalar(select(Case)) is None

    answer = _intake(auth, source="hotline", hotline_ticket=TICKET)
    assert answer.status_code == 302
    case = db.session.scalar(select(Case))
    assert case.hotline_ticket == TICKET
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "热线工单号" in page and TICKET in page
    edit = client.get(f"/cases/{case.number}/edit").get_data(as_text=True)
    assert f'value="{TICKET}"' in edit


def test_the_api_takes_the_ticket_and_every_delivery_repeats_it(demo_city, client, receiver):
    subscribed(receiver)
    headers = bearer(cli_token(demo_city, "mediator"))
    refused = client.post(f"{API}/cases", json=case_body(source="walk_in",
                                                         hotline_ticket=TICKET),
                          headers=headers)
    assert error_fields(expect_problem(refused, 422)) == {"hotline_ticket"}
    refused = client.post(f"{API}/cases", json=case_body(hotline_ticket="SD/12345"),
                          headers=headers)
    assert error_fields(expect_problem(refused, 422)) == {"hotline_ticket"}

    created = client.post(f"{API}/cases", json=case_body(hotline_ticket=TICKET),
                          headers=headers)
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    assert created.get_json()["hotline_ticket"] == TICKET
    assert client.get(f"{API}/cases/{number}", headers=headers).get_json()[
        "hotline_ticket"] == TICKET
    plain = client.post(f"{API}/cases", json=case_body(source="walk_in", parties=[
        {"role": "applicant", "name": "孙丽"}]), headers=headers).get_json()
    assert plain["hotline_ticket"] is None

    run(receiver, utcnow())
    tickets = {r.payload["case"]["number"]: r.payload["case"]["hotline_ticket"]
               for r in receiver.received}
    assert tickets == {number: TICKET, plain["number"]: None}
    assert all(r.signed for r in receiver.received)
