"""Outbound webhooks: a real receiver on 127.0.0.1 (ports 5084–5089) checks every signature
as the README shows, answers 500 once, and sees each step of a hotline case once per event
id, the first again after the back-off; scope, the outbox's transaction, pausing after
repeated failures, two workers, redirects and a dead receiver.

``deliver_due(now=…)`` plays the clock (no sleeping): the tests move it past the back-off.
"""

import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from agreements_helpers import VERIFY_URL, agreement_city, full_person, ready_draft
from api_helpers import working_slot
from cases_helpers import applicant, make_case, respondent
from conftest import PG_URL
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mediation import create_app
from mediation.agreements import documents
from mediation.agreements import operations as agreement_ops
from mediation.agreements.models import ConfirmationResult
from mediation.cases import operations as case_ops
from mediation.cases.states import CaseState, Level, Source
from mediation.core import crypto
from mediation.core.audit import AuditEntry
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.identity import id_check_char
from mediation.extensions import db
from mediation.sessions.models import PlaceKind
from mediation.sessions.operations import (
    MoveInput,
    SessionInput,
    cancel_session,
    move_session,
    schedule_session,
)
from mediation.webhooks import delivery, operations
from mediation.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from mediation.webhooks.operations import SubscriberInput

PORTS = range(5084, 5090)
TICKET = "SD12345-20261207-0042"
WANG_ID = "37050219750308001" + id_check_char("37050219750308001")
ALL_TYPES = [t.value for t in EventType]


# ---- the receiver -------------------------------------------------------------------------

def verify(secret: str, headers, body: bytes, now: float, tolerance: int = 300) -> bool:
    """What the README shows a receiver doing: the HMAC of ``timestamp.body`` compared in
    constant time, and a timestamp within five minutes of its own clock (older: a replay)."""
    timestamp = headers.get("X-Mediation-Timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Mediation-Signature", ""))


@dataclass
class Received:
    headers: dict  # lower-case names
    body: bytes
    answered: int
    signed: bool

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["x-mediation-event-id"]


class Receiver:
    """An HTTP server in a thread that takes webhook deliveries: checks each one against
    ``secret`` at its clock ``now`` and answers with the statuses queued in ``answers``
    (then 200)."""

    path = "/hooks/mediation"

    def __init__(self):
        self.secret: str | None = None
        self.now = None
        self.answers: list[int] = []
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.server = self._bind(self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    now = receiver.now.timestamp() if receiver.now else time.time()
                    receiver.received.append(Received(
                        {k.lower(): v for k, v in self.headers.items()}, body, status,
                        verify(receiver.secret or "", self.headers, body, now)))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler

    @staticmethod
    def _bind(handler) -> ThreadingHTTPServer:
        for port in PORTS:
            try:
                return ThreadingHTTPServer(("127.0.0.1", port), handler)
            except OSError:
                continue
        pytest.skip("ports 5084–5089 are all in use")

    def close(self) -> None:
        """Stop answering (again: nothing)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def city(app, monkeypatch):
    """The test city (its committee in 东苑社区, a court), and a stand-in for the agreement's
    PDF (its rendering is not the point here)."""
    monkeypatch.setattr(documents, "agreement_pdf",
                        lambda agreement, **kw: f"%PDF-1.7 {agreement.number}".encode())
    return agreement_city()


def subscribe(city, receiver=None, *, url=None, area="district", types=ALL_TYPES,
              name="12345热线"):
    subscriber, secret = operations.create_subscriber(city.admin, SubscriberInput(
        name=name, url=url or receiver.url, event_types=list(types),
        area=getattr(city, area) if area else None))
    db.session.commit()
    if receiver is not None:
        receiver.secret = secret
    return subscriber


def run(receiver, at, **kwargs) -> delivery.Report:
    """One ``flask deliver-webhooks`` run at ``at``, the receiver's clock set to it."""
    receiver.now = at
    return delivery.deliver_due(now=at, **kwargs)


def hotline_case(city, **fields):
    fields.setdefault("parties", [
        full_person(applicant, "王建国", id_type="resident_id", id_number=WANG_ID),
        full_person(respondent, "李卫东", phone="13905467788")])
    case = make_case(city.gridworker, source=Source.HOTLINE, hotline_ticket=TICKET,
                     grid=city.east_1, **fields)
    db.session.commit()
    return case


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---- a case from intake to its ruling -----------------------------------------------------

def test_each_step_arrives_signed_once_per_event_id_and_the_500_is_retried(city, receiver):
    subscribe(city, receiver)
    case = hotline_case(city)
    # The clock runs ahead of the steps below, however long they take: what they queue is
    # due at ``start``, the retry of the first failure a minute later.
    start = utcnow() + timedelta(minutes=10)
    receiver.answers = [500]
    first = run(receiver, start)
    assert (first.delivered, first.retrying) == (0, 1)

    case_ops.accept_case(city.mediator, case)
    case_ops.move_level(city.mediator, case, Level.COMMUNITY, "涉及金额较大，上报社区调委会")
    case_ops.start_mediation(city.mediator, case)
    begins, ends = working_slot(14)
    session = schedule_session(city.mediator, case, SessionInput(
        starts_at=begins, ends_at=ends, place_kind=PlaceKind.ON_SITE,
        address="东苑小区3号楼502室", purpose="调解漏水损失", lead_mediator=city.mediator,
        parties=list(case.parties)))
    db.session.commit()
    begins, ends = working_slot(14, hour=14)  # the afternoon of the same day
    move_session(city.mediator, session, MoveInput(
        starts_at=begins, ends_at=ends, place_kind=PlaceKind.ON_SITE,
        address="东苑小区3号楼502室", reason="被申请人出差"))
    cancel_session(city.mediator, session, "双方同意先自行协商")
    db.session.commit()
    agreement = ready_draft(city, case)
    agreement_ops.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    for signer in [f"party:{e.party_id}" for e in agreement.parties] + ["mediator", "seal"]:
        agreement_ops.record_signature(city.mediator, agreement, signer, agreement.issued_on)
    confirmation = agreement_ops.file_confirmation(
        city.mediator, agreement, court=city.court, court_name=None,
        filed_on=agreement.issued_on, case_reference=None)
    agreement_ops.record_ruling(city.mediator, confirmation, result=ConfirmationResult.CONFIRMED,
                                ruling_number="（2026）测0699民特12号",
                                ruled_on=agreement.issued_on, note=None)
    case_ops.close_case(city.mediator, case)
    db.session.commit()

    second = run(receiver, start)
    assert (second.delivered, second.retrying) == (9, 0)
    assert run(receiver, start + timedelta(seconds=59)).attempts == 0  # still backing off
    third = run(receiver, start + timedelta(minutes=1))
    assert (third.delivered, third.retrying) == (1, 0)

    got = receiver.received
    assert all(r.signed for r in got)
    assert [r.payload["type"] for r in got] == [
        "case.created", "case.accepted", "case.escalated", "session.booked", "session.moved",
        "session.cancelled", "case.settled", "agreement.issued", "confirmation.ruled",
        "case.closed", "case.created"]
    assert [r.answered for r in got] == [500] + [200] * 10
    # The retry is the same event: same id, same bytes; only the timestamp and signature
    # (and the attempt's number) are new.
    retry, failed = got[-1], got[0]
    assert (retry.event_id, retry.body) == (failed.event_id, failed.body)
    assert retry.headers["x-mediation-timestamp"] != failed.headers["x-mediation-timestamp"]
    assert (failed.headers["x-mediation-attempt"], retry.headers["x-mediation-attempt"]) == \
        ("1", "2")
    # No event twice under different ids: one id per event, one event per id.
    ids = defaultdict(set)
    for r in got:
        assert r.payload["id"] == r.event_id
        assert r.headers["x-mediation-event-type"] == r.payload["type"]
        same = {k: v for k, v in r.payload.items() if k not in ("id", "occurred_at")}
        ids[json.dumps(same, sort_keys=True)].add(r.event_id)
    assert len(ids) == 10 and all(len(found) == 1 for found in ids.values())
    assert len({r.event_id for r in got}) == 10

    # Every delivery repeats the case's number and the hotline's ticket; no party's name,
    # ID number or phone leaves.
    for r in got:
        assert r.payload["case"]["number"] == case.number
        assert r.payload["case"]["hotline_ticket"] == TICKET
        text = r.body.decode()
        for secret in ("王建国", "李卫东", WANG_ID, "13805461234", "13905467788", "东苑小区"):
            assert secret not in text
    by_type = {r.payload["type"]: r.payload for r in got}
    assert by_type["case.escalated"]["escalation"] == {"from_level": "grid",
                                                       "to_level": "community"}
    assert by_type["case.accepted"]["case"]["state"] == "accepted"
    moved = by_type["session.moved"]["session"]
    assert moved["id"] == session.id and moved["place_kind"] == "on_site"
    assert moved["moved_from"]["starts_at"] == by_type["session.booked"]["session"]["starts_at"]
    assert by_type["session.cancelled"]["session"]["status"] == "cancelled"
    assert by_type["agreement.issued"]["agreement"]["number"] == agreement.number
    assert by_type["confirmation.ruled"]["ruling"] == {
        "court": "测试区人民法院", "result": "confirmed",
        "ruled_on": agreement.issued_on.isoformat(), "ruling_number": "（2026）测0699民特12号"}
    assert by_type["case.closed"]["case"]["state"] == "closed"

    # The log: every attempt, the 500 with its next try; all delivered now, nothing left.
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [a.status_code for a in attempts] == [500] + [200] * 10
    assert attempts[0].next_attempt_at == start + timedelta(minutes=1)
    assert all(a.next_attempt_at is None for a in attempts[1:])
    assert count(WebhookDelivery, WebhookDelivery.status != DeliveryStatus.DELIVERED) == 0
    assert run(receiver, start + timedelta(days=1)).attempts == 0
    assert len(receiver.received) == 11


# ---- who hears of what --------------------------------------------------------------------

def test_a_subscriber_hears_only_of_its_area_and_of_the_events_it_chose(city):
    url = "https://hotline.example.gov.cn/events"
    wanted = {subscribe(city, url=url, area="east", name="东苑社区").id: "东苑社区",
              subscribe(city, url=url, area=None, types=["case.created"], name="全市").id:
                  "全市"}
    subscribe(city, url=url, area="west", name="西苑社区")  # another community
    subscribe(city, url=url, area="street", types=["case.closed"], name="只要结案")
    case = hotline_case(city)
    deliveries = db.session.scalars(select(WebhookDelivery)).all()
    assert {d.subscriber_id for d in deliveries} == set(wanted)
    assert {d.event.type for d in deliveries} == {EventType.CASE_CREATED}
    assert len({d.event_id for d in deliveries}) == 1  # one event, one id, for both

    case_ops.accept_case(city.mediator, case)
    db.session.commit()
    accepted = db.session.scalars(select(WebhookDelivery).join(WebhookDelivery.event).where(
        WebhookEvent.type == EventType.CASE_ACCEPTED)).all()
    assert [wanted[d.subscriber_id] for d in accepted] == ["东苑社区"]


def test_nothing_is_written_when_no_one_listens(city):
    subscribe(city, url="https://hotline.example.gov.cn/events", area="west")
    hotline_case(city)
    assert count(WebhookEvent) == 0


def test_an_event_is_kept_only_with_the_change_it_reports(city):
    subscribe(city, url="https://hotline.example.gov.cn/events")
    case = hotline_case(city)
    assert count(WebhookEvent) == 1
    case_ops.accept_case(city.mediator, case)
    # Written in the change's transaction (flushed with it, not yet committed).
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 2
    case.amount_fen = -1  # the same transaction then fails: the acceptance is not kept...
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert case.state is CaseState.REPORTED
    assert count(WebhookEvent) == 1  # ... and neither is its event
    # A refused change writes none either.
    with pytest.raises(OperationError):
        case_ops.transition(case, CaseState.CLOSED, city.mediator)
    db.session.rollback()
    assert count(WebhookEvent) == 1
    assert count(WebhookEvent, WebhookEvent.type == EventType.CASE_ACCEPTED) == 0


# ---- failures -----------------------------------------------------------------------------

def test_ten_failed_attempts_in_a_row_pause_the_subscriber_until_it_is_resumed(city, receiver):
    subscriber = subscribe(city, receiver)
    case = hotline_case(city)
    receiver.answers = [500] * 10
    at = utcnow()
    for attempt in range(1, 11):
        report = run(receiver, at)
        assert report.attempts == 1
        at += delivery.wait_after(attempt)
    assert report.paused == ["12345热线"]
    waits = [b.payload["id"] for b in receiver.received]
    assert len(set(waits)) == 1  # the same event each time
    db.session.refresh(subscriber)
    assert subscriber.paused and subscriber.paused_by is None
    assert subscriber.consecutive_failures == 10
    assert db.session.scalar(select(AuditEntry.action).where(
        AuditEntry.action == "webhook.pause")) == "webhook.pause"
    # Paused: nothing is posted, however late; what happens meanwhile waits for it.
    case_ops.accept_case(city.mediator, case)
    db.session.commit()
    assert run(receiver, at + timedelta(days=2)).attempts == 0
    assert len(receiver.received) == 10

    operations.resume(city.admin, subscriber, now=at)
    db.session.commit()
    report = run(receiver, at)
    assert (report.delivered, report.retrying) == (2, 0)
    assert [r.payload["type"] for r in receiver.received[-2:]] == ["case.created",
                                                                    "case.accepted"]
    db.session.refresh(subscriber)
    assert not subscriber.paused and subscriber.consecutive_failures == 0
    with pytest.raises(OperationError, match="未处于暂停状态"):
        operations.resume(city.admin, subscriber)


def test_a_success_ends_the_run_of_failures(city, receiver):
    subscriber = subscribe(city, receiver)
    hotline_case(city)
    hotline_case(city)
    receiver.answers = [500, 200]
    run(receiver, utcnow())
    db.session.refresh(subscriber)
    assert subscriber.consecutive_failures == 0 and not subscriber.paused


def test_a_delivery_is_given_up_after_its_last_attempt(city, receiver):
    subscribe(city, receiver)
    hotline_case(city)
    receiver.answers = [503] * 3
    policy = delivery.Policy(give_up_after=3)
    at = utcnow()
    reports = []
    for attempt in range(1, 4):
        reports.append(run(receiver, at, policy=policy))
        at += delivery.wait_after(attempt, policy)
    assert [(r.retrying, r.given_up) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    found = db.session.scalars(select(WebhookDelivery)).one()
    assert (found.status, found.attempts, found.next_attempt_at) == (
        DeliveryStatus.FAILED, 3, None)
    assert run(receiver, at + timedelta(days=30), policy=policy).attempts == 0


def test_the_back_off_doubles_up_to_six_hours():
    assert [delivery.wait_after(n) for n in (1, 2, 3, 4, 9, 10, 30)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4),
        timedelta(minutes=8), timedelta(minutes=256), timedelta(hours=6), timedelta(hours=6)]


def test_a_redirect_or_a_receiver_that_is_down_is_a_failure_retried(city, receiver):
    subscribe(city, receiver)
    hotline_case(city)
    receiver.answers = [302]
    at = utcnow()
    assert run(receiver, at).retrying == 1
    assert len(receiver.received) == 1  # not followed to /elsewhere
    receiver.close()
    assert run(receiver, at + timedelta(minutes=1)).retrying == 1
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert (attempts[0].status_code, attempts[0].error) == (302, None)
    assert attempts[1].status_code is None and "Connection" in attempts[1].error


def test_events_go_to_this_server_only_while_the_deployment_allows_it(app, city, receiver):
    # Registered while this computer is allowed (the tests' receivers are on it), by a name.
    subscribe(city, receiver, url=f"http://localhost:{receiver.port}{receiver.path}")
    hotline_case(city)
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ()  # a deployment that does not allow it
    at = utcnow()
    assert run(receiver, at).retrying == 1
    assert receiver.received == []  # refused before connecting: nothing was sent
    attempt = db.session.scalar(select(WebhookAttempt))
    assert attempt.status_code is None
    assert "127.0.0.1" in attempt.error and "WEBHOOK_ALLOWED_NETWORKS" in attempt.error

    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8", "::1/128")
    assert run(receiver, at + timedelta(minutes=2)).delivered == 1
    assert len(receiver.received) == 1 and receiver.received[0].signed


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://localhost:8080/in", "http://[::1]/in",
    "http://[::ffff:127.0.0.1]/in", "http://0.0.0.0/in", "http://169.254.169.254/latest",
    "http://192.168.1.10/in", "http://10.21.0.1/in", "http://100.64.0.1/in"])
def test_a_private_or_local_address_is_refused_when_registered(app, url):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("10.20.0.0/16",)
    with pytest.raises(OperationError) as refused:
        operations.check_url(url)
    assert refused.value.field == "url"


def test_a_public_address_or_one_in_an_allowed_network_is_accepted(app):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("10.20.0.0/16",)
    for url in ("https://hotline.example.gov.cn/in", "http://10.20.3.4:8080/in",
                "https://202.96.134.133/in"):
        assert operations.check_url(url) == url


def test_the_app_refuses_to_start_on_an_allowed_network_that_is_none(monkeypatch):
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16, 10.30.0.0/33")
    with pytest.raises(RuntimeError, match="WEBHOOK_ALLOWED_NETWORKS.*10.30.0.0/33"):
        create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16, 192.168.8.5")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    assert app.config["WEBHOOK_ALLOWED_NETWORKS"] == ("10.20.0.0/16", "192.168.8.5")


def test_a_delivery_taken_by_a_worker_that_died_is_tried_again_after_the_hold(city, receiver):
    subscribe(city, receiver)
    hotline_case(city)
    at = utcnow()

    def killed(*args):
        raise SystemExit("the worker was killed while posting")

    with pytest.raises(SystemExit):
        delivery.deliver_due(now=at, send=killed)
    db.session.rollback()
    hold = delivery.POLICY.hold
    assert run(receiver, at + hold - timedelta(seconds=1)).attempts == 0  # still held
    assert run(receiver, at + hold).delivered == 1
    assert len(receiver.received) == 1


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite has a single writer")
def test_two_workers_never_take_the_same_delivery(city, receiver):
    subscribe(city, receiver)
    first, second = hotline_case(city), hotline_case(city)
    taken = db.session.scalar(select(WebhookDelivery.id).join(WebhookDelivery.event).where(
        WebhookEvent.case_number == first.number))
    other = sa.create_engine(db.engine.url)
    try:
        with other.connect() as worker:  # another worker is posting the first one
            worker.execute(sa.text("SELECT id FROM webhook_deliveries WHERE id = :id "
                                   "FOR UPDATE"), {"id": taken})
            report = run(receiver, utcnow())
            assert report.delivered == 1
            assert [r.payload["case"]["number"] for r in receiver.received] == [second.number]
            worker.rollback()
    finally:
        other.dispose()
    assert run(receiver, utcnow()).delivered == 1
    assert [r.payload["case"]["number"] for r in receiver.received] == [second.number,
                                                                      first.number]


# ---- the command and the log's size -------------------------------------------------------

def test_the_command_delivers_and_prunes_the_old_log(city, receiver, runner):
    subscribe(city, receiver)
    hotline_case(city)
    result = runner.invoke(args=["deliver-webhooks", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "1 delivered, 0 to retry, 0 given up" in result.output
    assert len(receiver.received) == 1 and receiver.received[0].signed

    hotline_case(city)
    receiver.answers = [500]
    result = runner.invoke(args=["deliver-webhooks"])  # quiet unless something failed
    assert result.output == "Webhooks: 0 delivered, 1 to retry, 0 given up.\n"
    assert runner.invoke(args=["deliver-webhooks"]).output == ""  # nothing due yet
    old = utcnow() - timedelta(days=31)
    db.session.execute(sa.update(WebhookDelivery).values(created_at=old))
    db.session.execute(sa.update(WebhookEvent).values(occurred_at=old))
    db.session.commit()
    result = runner.invoke(args=["deliver-webhooks", "--keep-days", "30", "-v"])
    assert "Pruned 1 old deliveries and 1 events." in result.output
    # What still waits is kept, with its event and its attempt.
    assert count(WebhookDelivery) == 1 and count(WebhookEvent) == 1
    assert count(WebhookAttempt) == 1
    assert db.session.scalars(select(WebhookDelivery)).one().status is DeliveryStatus.PENDING


def test_the_secret_is_kept_encrypted_and_a_new_one_signs_from_then_on(city, receiver):
    subscriber = subscribe(city, receiver)
    first = receiver.secret
    stored = db.session.scalar(sa.text("SELECT secret_encrypted FROM webhook_subscribers"))
    assert first.startswith("whsec_") and first not in stored
    assert crypto.decrypt(stored) == first
    receiver.secret = operations.new_secret(city.admin, subscriber)
    db.session.commit()
    assert receiver.secret != first
    hotline_case(city)
    run(receiver, utcnow())
    assert receiver.received[0].signed
    assert not verify(first, receiver.received[0].headers, receiver.received[0].body,
                      time.time())
