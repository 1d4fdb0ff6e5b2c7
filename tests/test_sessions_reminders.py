"""The reminders outbox: queued with the session, withdrawn when it is cancelled, sent once
by email through SMTP (retried, then given up), SMS left for the staff's gateway.

Sessions are on a Tuesday in 2027 (see test_sessions_scheduling.py), so their reminders
fall due on the Monday before, 24 hours ahead; ``send_due(now=...)`` plays the clock.
"""

import csv
import io
import smtplib
import threading
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from cases_helpers import applicant, area, make_case, respondent, user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mediation.areas.models import Centre
from mediation.cases.models import AssignmentRole, PartyKind, PartyRole
from mediation.cases.operations import PartyInput, assign
from mediation.core.audit import AuditEntry, verify_chain
from mediation.extensions import db
from mediation.sessions import reminders
from mediation.sessions.models import MediationSession, ParticipantRole, PlaceKind
from mediation.sessions.operations import (
    Invitee,
    SessionInput,
    cancel_session,
    schedule_session,
)
from mediation.sessions.reminders import (
    CANCELLATION,
    REMINDER,
    Channel,
    OutboxMessage,
    OutboxStatus,
    queue_for_session,
    send_due,
)

LOCAL = ZoneInfo("Asia/Shanghai")
GRID = "370599001001-01"
CENTRE = "文汇街道矛盾纠纷调处化解中心"
TUESDAY = date(2027, 3, 16)
MONDAY = TUESDAY - timedelta(days=1)
MEDIATOR_EMAIL = "zhangzhiqiang@tiaojie.example.cn"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL)


@pytest.fixture
def city(demo_city):
    """The demo city's staff, with contact details: the mediator by email, the coordinator
    by phone only, the legal-aid volunteer not at all."""
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    mediator, coordinator = user("mediator"), user("coordinator")
    mediator.email = MEDIATOR_EMAIL
    coordinator.email, coordinator.phone = "  ", "139 0546 1234"
    db.session.commit()
    return SimpleNamespace(admin=user("admin"), mediator=mediator, coordinator=coordinator,
                           legalaid=user("legalaid"), centre=centre,
                           room1=next(r for r in centre.rooms if r.name == "第一调解室"))


def book(city, start: datetime | None = None, **fields) -> MediationSession:
    """A three-party session with a co-mediator, a volunteer and an invited psychologist."""
    case = make_case(city.admin, grid=area(GRID), parties=[
        applicant("王建国", phone="13800138000", agent_name="赵律师",
                  agent_phone="+86 137 0000 1111", agent_power_of_attorney=True),
        respondent("李卫东", phone="0546-8123456"),
        PartyInput(role=PartyRole.THIRD_PARTY, kind=PartyKind.PERSON, name="孙丽"),
    ])
    assign(city.admin, case, city.legalaid, AssignmentRole.LEGAL_AID)
    start = start or at(TUESDAY, 10)
    fields.setdefault("room", city.room1)
    data = SessionInput(
        starts_at=start, ends_at=start + timedelta(hours=1), place_kind=PlaceKind.ROOM,
        purpose="调解维修费用分担", lead_mediator=city.mediator,
        co_mediators=[city.coordinator], legal_aid=[city.legalaid],
        parties=list(case.parties),
        invited=[Invitee("周心怡", "区心理咨询中心", consent_recorded=True)], **fields)
    session = schedule_session(city.mediator, case, data)
    db.session.commit()
    return session


def outbox(**where) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    db.session.expire_all()
    return list(db.session.scalars(query))


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what it is asked to do; can be told to fail."""

    sent: list = []
    calls: list = []
    failures = 0  # how many of the next sends fail
    delay = 0.0
    lock = threading.Lock()

    def __init__(self, host, port, timeout=None):
        self.calls.append(("connect", host, port))

    def starttls(self):
        self.calls.append(("starttls",))

    def login(self, username, password):
        self.calls.append(("login", username, password))

    def send_message(self, message):
        clock.sleep(self.delay)
        with self.lock:
            if FakeSMTP.failures:
                FakeSMTP.failures -= 1
                raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"mailbox busy")})
            self.sent.append(message)

    def quit(self):
        self.calls.append(("quit",))


@pytest.fixture
def smtp(app, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(FakeSMTP, "sent", [])
    monkeypatch.setattr(FakeSMTP, "calls", [])
    monkeypatch.setattr(FakeSMTP, "failures", 0)
    monkeypatch.setattr(FakeSMTP, "delay", 0.0)
    app.config.update(MAIL_SERVER="smtp.example.cn", MAIL_PORT=2525, MAIL_USE_TLS=True,
                      MAIL_USERNAME="tiaojie", MAIL_PASSWORD="s3cret",
                      MAIL_SENDER="tiaojie@example.cn")
    return FakeSMTP


# ---- queuing ------------------------------------------------------------------------------

def test_scheduling_queues_one_reminder_per_reachable_participant(city):
    session = book(city)
    messages = outbox()
    by_role = {(m.participant.role, m.participant.display_name): m for m in messages}
    # The volunteer has no contact details, the third party no phone, and invited people
    # are contacted by the mediator: none of them is queued.
    assert sorted(by_role, key=lambda k: k[1]) == sorted([
        (ParticipantRole.LEAD_MEDIATOR, "张志强"), (ParticipantRole.CO_MEDIATOR, "李红梅"),
        (ParticipantRole.PARTY, "王建国"), (ParticipantRole.AGENT, "赵律师"),
        (ParticipantRole.PARTY, "李卫东")], key=lambda k: k[1])
    recipients = {name: (m.channel, m.recipient) for (_role, name), m in by_role.items()}
    assert recipients == {
        "张志强": (Channel.EMAIL, MEDIATOR_EMAIL),
        "李红梅": (Channel.SMS, "13905461234"),  # no email: the phone, normalised
        "王建国": (Channel.SMS, "13800138000"),
        "赵律师": (Channel.SMS, "13700001111"),  # the agent's own phone
        "李卫东": (Channel.SMS, "0546-8123456"),
    }
    number = session.case.number
    for message in messages:
        assert message.kind == REMINDER and message.status is OutboxStatus.PENDING
        assert message.session_id == session.id
        assert message.due_at == at(MONDAY, 10) and message.due_at.tzinfo is not None
        assert message.attempts == 0 and message.sent_at is None
        assert number in message.subject
        assert number in message.body and "2027-03-16 10:00" in message.body
        assert f"{CENTRE} 第一调解室" in message.body
        assert message.body.startswith("【人民调解】")
    assert "王建国您好" in by_role[(ParticipantRole.PARTY, "王建国")].body
    assert "赵律师您好" in by_role[(ParticipantRole.AGENT, "赵律师")].body


def test_queuing_twice_adds_nothing_and_the_database_refuses_a_duplicate(city):
    session = book(city)
    assert queue_for_session(session) == []
    db.session.commit()
    messages = outbox()
    assert len(messages) == 5

    first = messages[0]
    db.session.add(OutboxMessage(
        session_id=session.id, participant_id=first.participant_id, kind=REMINDER,
        channel=first.channel, recipient=first.recipient, subject="x", body="x",
        due_at=first.due_at))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert len(outbox()) == 5


def test_queuing_again_follows_a_moved_session(city):
    """A later edit of the session calls queue_for_session again: the outbox follows."""
    session = book(city)
    session.starts_at, session.ends_at = at(TUESDAY, 15), at(TUESDAY, 16)
    moved = queue_for_session(session)
    db.session.commit()
    assert len(moved) == 5 and {m.due_at for m in moved} == {at(MONDAY, 15)}
    assert all("2027-03-16 15:00" in m.body for m in moved)
    old = outbox(due_at=at(MONDAY, 10))
    assert len(old) == 5 and {m.status for m in old} == {OutboxStatus.CANCELLED}

    # Back to 10:00: the withdrawn reminders come back, with the right text; none is doubled.
    session.starts_at, session.ends_at = at(TUESDAY, 10), at(TUESDAY, 11)
    assert len(queue_for_session(session)) == 5
    db.session.commit()
    assert len(outbox()) == 10
    assert {m.status for m in outbox(due_at=at(MONDAY, 10))} == {OutboxStatus.PENDING}
    assert {m.status for m in outbox(due_at=at(MONDAY, 15))} == {OutboxStatus.CANCELLED}
    assert all("2027-03-16 10:00" in m.body for m in outbox(due_at=at(MONDAY, 10)))


def test_no_reminder_when_its_time_has_passed(city, monkeypatch):
    # Booked at 11:00 the day before: the reminder's moment (10:00) is gone.
    monkeypatch.setattr(reminders, "utcnow", lambda: at(MONDAY, 11).astimezone(UTC))
    book(city)
    assert outbox() == []


def test_cancelling_withdraws_the_reminders_and_queues_cancellations(city):
    session = book(city)
    cancel_session(city.mediator, session, "申请人住院，改期", seen_version=session.version)
    db.session.commit()

    reminders_ = outbox(kind=REMINDER)
    assert len(reminders_) == 5
    assert {m.status for m in reminders_} == {OutboxStatus.CANCELLED}
    cancellations = outbox(kind=CANCELLATION)
    assert {m.recipient for m in cancellations} == {m.recipient for m in reminders_}
    now = datetime.now(UTC)
    number = session.case.number
    for message in cancellations:
        assert message.status is OutboxStatus.PENDING
        assert now - timedelta(minutes=1) < message.due_at <= now
        assert number in message.subject and number in message.body
        assert "2027-03-16 10:00" in message.body and "已取消" in message.body
        # The reason (here: someone's health) is not sent to everyone.
        assert "住院" not in message.body

    # Once only, even when asked again; a cancelled session gets no reminders.
    assert reminders.queue_cancellation(session) == []
    assert queue_for_session(session) == []
    db.session.commit()
    assert len(outbox()) == 10


# ---- sending by email ---------------------------------------------------------------------

def test_email_is_sent_once_when_due_even_when_run_twice(city, smtp):
    session = book(city)

    # Before the due time nothing goes out.
    counts = send_due(now=at(MONDAY, 9, 59))
    assert counts == {"sent": 0, "retrying": 0, "failed": 0, "sms_waiting": 0,
                      "email_waiting": 0}
    assert smtp.sent == []

    counts = send_due(now=at(MONDAY, 10))
    assert counts == {"sent": 1, "retrying": 0, "failed": 0, "sms_waiting": 4,
                      "email_waiting": 0}
    assert send_due(now=at(MONDAY, 10, 5))["sent"] == 0
    assert len(smtp.sent) == 1

    email = smtp.sent[0]
    assert email["To"] == MEDIATOR_EMAIL and email["From"] == "tiaojie@example.cn"
    assert email["Subject"] == f"调解会议提醒（案件{session.case.number}）"
    text = email.get_content()
    assert "张志强您好" in text and session.case.number in text
    assert "2027-03-16 10:00" in text and "第一调解室" in text
    assert ("connect", "smtp.example.cn", 2525) in smtp.calls
    assert ("starttls",) in smtp.calls and ("login", "tiaojie", "s3cret") in smtp.calls

    [sent] = outbox(channel=Channel.EMAIL)
    assert sent.status is OutboxStatus.SENT and sent.sent_at is not None
    assert sent.attempts == 1 and sent.last_error is None
    # The text messages wait for the staff's gateway.
    assert {m.status for m in outbox(channel=Channel.SMS)} == {OutboxStatus.PENDING}


def test_a_failing_server_is_retried_then_the_message_is_marked_failed(city, smtp):
    book(city)
    smtp.failures = 99
    due = at(MONDAY, 10)

    assert send_due(now=due, max_attempts=3)["retrying"] == 1
    [message] = outbox(channel=Channel.EMAIL)
    assert message.status is OutboxStatus.PENDING and message.attempts == 1
    assert "SMTPRecipientsRefused" in message.last_error and "mailbox busy" in message.last_error

    assert send_due(now=due, max_attempts=3)["retrying"] == 1
    assert send_due(now=due, max_attempts=3)["failed"] == 1
    [message] = outbox(channel=Channel.EMAIL)
    assert message.status is OutboxStatus.FAILED and message.attempts == 3
    assert message.sent_at is None

    # Given up: not tried again, even once the server works.
    smtp.failures = 0
    assert send_due(now=due, max_attempts=3)["sent"] == 0
    assert smtp.sent == []


def test_a_message_that_failed_once_goes_out_on_the_next_run(city, smtp):
    book(city)
    smtp.failures = 1
    assert send_due(now=at(MONDAY, 10))["retrying"] == 1
    assert send_due(now=at(MONDAY, 10, 10))["sent"] == 1
    [message] = outbox(channel=Channel.EMAIL)
    assert message.status is OutboxStatus.SENT and message.attempts == 2
    assert len(smtp.sent) == 1


def test_cancellations_go_out_and_withdrawn_reminders_never_do(city, smtp):
    session = book(city)
    cancel_session(city.mediator, session, "改期", seen_version=session.version)
    db.session.commit()
    assert send_due()["sent"] == 1
    assert send_due(now=at(TUESDAY, 10))["sent"] == 0  # past the reminders' due time
    [email] = smtp.sent
    assert email["Subject"] == f"调解会议取消通知（案件{session.case.number}）"
    assert "已取消" in email.get_content()


def test_two_runs_at_once_send_each_message_once(app, city, smtp):
    city.coordinator.email = "lihongmei@tiaojie.example.cn"
    city.legalaid.email = "chensiyuan@tiaojie.example.cn"
    db.session.commit()
    book(city)
    book(city, at(TUESDAY, 14))
    assert len(outbox(channel=Channel.EMAIL)) == 6
    db.session.commit()  # and hold no transaction open while the runs go
    smtp.delay = 0.05
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                results.append(send_due(now=at(TUESDAY, 9)))
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r["sent"] for r in results) == 6
    assert len(smtp.sent) == 6
    assert sorted(m["To"] for m in smtp.sent) == sorted(
        [MEDIATOR_EMAIL, "lihongmei@tiaojie.example.cn", "chensiyuan@tiaojie.example.cn"] * 2)
    assert len({m["Message-ID"] for m in smtp.sent}) == 6
    assert {m.status for m in outbox(channel=Channel.EMAIL)} == {OutboxStatus.SENT}


def test_without_a_mail_server_email_waits_in_the_outbox(app, city, monkeypatch):
    app.config["MAIL_SERVER"] = None
    monkeypatch.setattr(smtplib, "SMTP", None)  # never touched
    book(city)
    counts = send_due(now=at(MONDAY, 10))
    assert counts == {"sent": 0, "retrying": 0, "failed": 0, "sms_waiting": 4,
                      "email_waiting": 1}
    assert {m.status for m in outbox()} == {OutboxStatus.PENDING}


# ---- the command ----------------------------------------------------------------------------

def make_due(messages: list[OutboxMessage]) -> None:
    for message in messages:
        message.due_at = datetime.now(UTC) - timedelta(minutes=5)
    db.session.commit()


def rows(output: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(output)))


def test_send_reminders_sends_and_prints_the_counts(city, smtp, runner):
    book(city)
    make_due(outbox())
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry, 0 failed" in result.output
    assert "4 text messages wait for the SMS gateway" in result.output
    again = runner.invoke(args=["send-reminders"])
    assert again.exit_code == 0, again.output
    assert "0 sent" in again.output
    assert len(smtp.sent) == 1


def test_list_sms_prints_csv_and_mark_sent_marks_them(app, city, runner):
    app.config["MAIL_SERVER"] = None
    session = book(city)
    number = session.case.number

    # Not due yet: an empty list.
    result = runner.invoke(args=["send-reminders", "--list-sms"])
    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == [["recipient", "due_at", "text"]]

    make_due(outbox())
    plain = runner.invoke(args=["send-reminders"])
    assert "4 text messages wait" in plain.output and "1 emails wait" in plain.output

    listed = runner.invoke(args=["send-reminders", "--list-sms"])
    assert listed.exit_code == 0, listed.output
    header, *lines = rows(listed.stdout)
    assert header == ["recipient", "due_at", "text"]
    assert sorted(line[0] for line in lines) == sorted(
        ["13905461234", "13800138000", "13700001111", "0546-8123456"])
    due_local = {m.recipient: m.due_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
                 for m in outbox(channel=Channel.SMS)}
    for recipient, due, text in lines:
        assert due == due_local[recipient]  # in China's time
        assert number in text and "2027-03-16 10:00" in text
    # Listing alone changes nothing.
    assert {m.status for m in outbox(channel=Channel.SMS)} == {OutboxStatus.PENDING}

    refused = runner.invoke(args=["send-reminders", "--mark-sent"])
    assert refused.exit_code == 2

    marked = runner.invoke(args=["send-reminders", "--list-sms", "--mark-sent"])
    assert marked.exit_code == 0, marked.output
    assert rows(marked.stdout) == rows(listed.stdout)
    assert "4 text messages marked sent" in marked.stderr
    sms = outbox(channel=Channel.SMS)
    assert {m.status for m in sms} == {OutboxStatus.SENT}
    assert all(m.sent_at is not None and m.exported_at == m.sent_at for m in sms)
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "outbox.sms_export"))
    assert entry.after["count"] == 4 and sorted(entry.after["ids"]) == sorted(m.id for m in sms)
    assert verify_chain().ok

    # The second run hands nothing over twice; the email still waits for a mail server.
    again = runner.invoke(args=["send-reminders", "--list-sms", "--mark-sent"])
    assert rows(again.stdout) == [["recipient", "due_at", "text"]]
    assert "0 text messages marked sent" in again.stderr
    [email] = outbox(channel=Channel.EMAIL)
    assert email.status is OutboxStatus.PENDING
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENT)) == 4
