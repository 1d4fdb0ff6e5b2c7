"""The participants' outbox: a notice queued with the session, a reminder the day before,
both withdrawn when it is cancelled; sent once by email through SMTP (retried, then given
up), SMS left for the staff's gateway.

Sessions are on a Tuesday in 2027 (see test_sessions_scheduling.py) and booked today, so
their notices are due at once and their reminders on the Monday before, 24 hours ahead;
``send_due(now=...)`` plays the clock, and ``reminders.utcnow`` is patched to book "late".
"""

import csv
import io
import smtplib
import threading
import time as clock
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from cases_helpers import applicant, area, make_case, respondent, user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from mediation.areas.models import Centre
from mediation.cases.models import AssignmentRole, PartyKind, PartyRole
from mediation.cases.operations import PartyInput, assign
from mediation.core.audit import AuditEntry, verify_chain
from mediation.extensions import db
from mediation.sessions import reminders
from mediation.sessions.models import MediationSession, ParticipantRole, PlaceKind
from mediation.sessions.notices import place_text
from mediation.sessions.operations import (
    Invitee,
    SessionInput,
    cancel_session,
    schedule_session,
)
from mediation.sessions.reminders import (
    CANCELLATION,
    NOTICE,
    REMINDER,
    TEMPLATES,
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
    registration_texts_sent()
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


def registration_texts_sent() -> None:
    """The parties' access-code SMS went out with the registration (test_portal_status.py
    covers them): the outbox here holds the session's messages only."""
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.kind == reminders.ACCESS))


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


# Who can be reached, and how: the volunteer has no contact details, the third party no
# phone, and invited people are contacted by the mediator.
REACHABLE = {
    "张志强": (Channel.EMAIL, MEDIATOR_EMAIL),
    "李红梅": (Channel.SMS, "13905461234"),  # no email: the phone, normalised
    "王建国": (Channel.SMS, "13800138000"),
    "赵律师": (Channel.SMS, "13700001111"),  # the agent's own phone
    "李卫东": (Channel.SMS, "0546-8123456"),
}
PHONES = [recipient for channel, recipient in REACHABLE.values() if channel is Channel.SMS]
NOTHING = {"sent": 0, "retrying": 0, "failed": 0, "sms_waiting": 0, "email_waiting": 0}


def counts(**numbers: int) -> dict[str, int]:
    return NOTHING | numbers


def kinds(messages) -> Counter:
    return Counter(m.kind for m in messages)


# ---- queuing ------------------------------------------------------------------------------

def test_scheduling_queues_a_notice_now_and_a_reminder_the_day_before(city):
    before = datetime.now(UTC)
    session = book(city)
    after = datetime.now(UTC)
    messages = outbox()
    assert kinds(messages) == {NOTICE: 5, REMINDER: 5}
    # One notice and one reminder for each reachable participant, and nothing for the others.
    assert Counter((m.participant_id, m.kind) for m in messages) == {
        (p.id, kind): 1 for p in session.participants
        if p.display_name in REACHABLE for kind in (NOTICE, REMINDER)}
    for kind in (NOTICE, REMINDER):
        by_role = {(m.participant.role, m.participant.display_name): m
                   for m in outbox(kind=kind)}
        assert sorted(by_role, key=lambda k: k[1]) == sorted([
            (ParticipantRole.LEAD_MEDIATOR, "张志强"), (ParticipantRole.CO_MEDIATOR, "李红梅"),
            (ParticipantRole.PARTY, "王建国"), (ParticipantRole.AGENT, "赵律师"),
            (ParticipantRole.PARTY, "李卫东")], key=lambda k: k[1])
        assert {name: (m.channel, m.recipient)
                for (_role, name), m in by_role.items()} == REACHABLE
        assert "王建国您好" in by_role[(ParticipantRole.PARTY, "王建国")].body
        assert "赵律师您好" in by_role[(ParticipantRole.AGENT, "赵律师")].body

    number = session.case.number
    place = place_text(session)
    assert place.startswith(f"{CENTRE} 第一调解室")
    for message in messages:
        assert message.status is OutboxStatus.PENDING and message.session_id == session.id
        assert message.due_at.tzinfo is not None
        assert message.attempts == 0 and message.sent_at is None
        template = TEMPLATES[message.kind]
        values = {"name": message.participant.display_name, "number": number,
                  "when": "2027年3月16日（星期二）10:00至11:00", "place": place}
        assert message.subject == template["subject"].format(**values)
        assert message.body == template["body"].format(**values)
        assert message.body.startswith("【人民调解】")
    # The notice: due at once, and says what to bring.
    for message in outbox(kind=NOTICE):
        assert before <= message.due_at <= after
        assert message.subject == f"调解会通知（案件{number}）"
        assert "调解会定于2027年3月16日（星期二）10:00至" in message.body
        assert "请携带身份证件" in message.body
    # The reminder: 24 hours before the start.
    for message in outbox(kind=REMINDER):
        assert message.due_at == at(MONDAY, 10)
        assert message.subject == f"调解会提醒（案件{number}）"
        assert "调解会将于2027年3月16日（星期二）10:00至" in message.body


def test_queuing_twice_adds_nothing_and_the_database_refuses_a_duplicate(city, monkeypatch):
    session = book(city)
    queued = {(m.id, m.kind, m.due_at, m.status) for m in outbox()}
    assert len(queued) == 10
    assert queue_for_session(session) == []
    # An hour later still nothing: a participant hears of the session once, whenever asked.
    later = datetime.now(UTC) + timedelta(hours=1)
    monkeypatch.setattr(reminders, "utcnow", lambda: later)
    assert queue_for_session(session) == []
    db.session.commit()
    assert {(m.id, m.kind, m.due_at, m.status) for m in outbox()} == queued

    for kind in (NOTICE, REMINDER):
        first = outbox(kind=kind)[0]
        db.session.add(OutboxMessage(
            session_id=session.id, participant_id=first.participant_id, kind=kind,
            channel=first.channel, recipient=first.recipient, subject="x", body="x",
            due_at=first.due_at))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
    assert len(outbox()) == 10


def test_queuing_again_follows_a_moved_session(city):
    """A later edit of the session calls queue_for_session again: the outbox follows."""
    session = book(city)
    notices = {(m.id, m.due_at) for m in outbox(kind=NOTICE)}
    session.starts_at, session.ends_at = at(TUESDAY, 15), at(TUESDAY, 16)
    moved = queue_for_session(session)
    db.session.commit()
    assert len(moved) == 5 and kinds(moved) == {REMINDER: 5}
    assert {m.due_at for m in moved} == {at(MONDAY, 15)}
    assert all("2027年3月16日（星期二）15:00至" in m.body for m in moved)
    old = outbox(kind=REMINDER, due_at=at(MONDAY, 10))
    assert len(old) == 5 and {m.status for m in old} == {OutboxStatus.CANCELLED}
    # Everyone has been told of the session already: no second notice.
    assert {(m.id, m.due_at) for m in outbox(kind=NOTICE)} == notices
    assert {m.status for m in outbox(kind=NOTICE)} == {OutboxStatus.PENDING}

    # Back to 10:00: the withdrawn reminders come back, with the right text; none is doubled.
    session.starts_at, session.ends_at = at(TUESDAY, 10), at(TUESDAY, 11)
    back = queue_for_session(session)
    assert len(back) == 5 and kinds(back) == {REMINDER: 5}
    db.session.commit()
    assert kinds(outbox()) == {NOTICE: 5, REMINDER: 10}
    assert {(m.id, m.due_at) for m in outbox(kind=NOTICE)} == notices
    assert {m.status for m in outbox(due_at=at(MONDAY, 10))} == {OutboxStatus.PENDING}
    assert {m.status for m in outbox(due_at=at(MONDAY, 15))} == {OutboxStatus.CANCELLED}
    assert all("2027年3月16日（星期二）10:00至" in m.body for m in outbox(due_at=at(MONDAY, 10)))


def test_an_unsent_notice_follows_a_moved_session(city):
    session = book(city)
    session.starts_at, session.ends_at = at(TUESDAY, 15), at(TUESDAY, 16)
    queue_for_session(session)
    db.session.commit()
    pending = [m for m in outbox(kind=NOTICE) if m.status is OutboxStatus.PENDING]
    assert pending and all("2027年3月16日（星期二）15:00至" in m.body for m in pending)


@pytest.mark.parametrize(("booked", "reminded"), [
    (at(MONDAY, 9, 59), True),  # a day and a minute ahead: the reminder still comes
    (at(MONDAY, 10), False),  # exactly a day ahead: the reminder's moment is not ahead
    (at(MONDAY, 11), False),  # the day before at 11:00, for tomorrow morning
], ids=["a-day-and-a-minute-ahead", "exactly-a-day-ahead", "tomorrow-morning"])
def test_a_session_less_than_a_day_ahead_gets_the_notice_only(city, smtp, monkeypatch,
                                                             booked, reminded):
    monkeypatch.setattr(reminders, "utcnow", lambda: booked.astimezone(UTC))
    session = book(city)
    notices = outbox(kind=NOTICE)
    assert len(notices) == 5 and {m.recipient for m in notices} == {
        recipient for _channel, recipient in REACHABLE.values()}
    assert {m.due_at for m in notices} == {booked}
    assert {m.status for m in notices} == {OutboxStatus.PENDING}
    assert all("调解会定于2027年3月16日（星期二）10:00至" in m.body for m in notices)
    assert kinds(outbox()) == ({NOTICE: 5, REMINDER: 5} if reminded else {NOTICE: 5})
    assert {m.due_at for m in outbox(kind=REMINDER)} == (
        {at(MONDAY, 10)} if reminded else set())
    assert queue_for_session(session) == []

    # The notice goes out at once; a reminder only if there is one.
    assert send_due(now=booked) == counts(sent=1, sms_waiting=4)
    assert send_due(now=at(TUESDAY, 9)) == (counts(sent=1, sms_waiting=8) if reminded
                                            else counts(sms_waiting=4))
    assert [e["Subject"][:5] for e in smtp.sent] == (["调解会通知", "调解会提醒"] if reminded
                                                     else ["调解会通知"])


def test_cancelling_withdraws_the_notices_and_reminders_and_queues_cancellations(city):
    session = book(city)
    cancel_session(city.mediator, session, "申请人住院，改期", seen_version=session.version)
    db.session.commit()

    notices, reminders_ = outbox(kind=NOTICE), outbox(kind=REMINDER)
    assert len(notices) == 5 and len(reminders_) == 5
    assert {m.status for m in notices + reminders_} == {OutboxStatus.CANCELLED}
    cancellations = outbox(kind=CANCELLATION)
    assert len(cancellations) == 5
    # Once each, to everyone who was to hear of the session.
    assert Counter(m.participant_id for m in cancellations) == Counter(
        m.participant_id for m in notices)
    assert {m.recipient for m in cancellations} == {m.recipient for m in reminders_}
    now = datetime.now(UTC)
    number = session.case.number
    for message in cancellations:
        assert message.status is OutboxStatus.PENDING
        assert now - timedelta(minutes=1) < message.due_at <= now
        assert message.subject == f"调解会取消通知（案件{number}）"
        assert number in message.body
        assert "2027年3月16日（星期二）10:00至" in message.body and "已取消" in message.body
        # The reason (here: someone's health) is not sent to everyone.
        assert "住院" not in message.body

    # Once only, even when asked again; a cancelled session gets no notices or reminders.
    assert reminders.queue_cancellation(session) == []
    assert queue_for_session(session) == []
    db.session.commit()
    assert kinds(outbox()) == {NOTICE: 5, REMINDER: 5, CANCELLATION: 5}
    assert {m.status for m in outbox() if m.kind != CANCELLATION} == {OutboxStatus.CANCELLED}


# ---- sending by email ---------------------------------------------------------------------

def test_email_is_sent_once_when_due_even_when_run_twice(city, smtp):
    before = datetime.now(UTC)
    session = book(city)
    number = session.case.number

    # Before the booking nothing is due.
    assert send_due(now=before - timedelta(minutes=1)) == NOTHING
    assert smtp.sent == []

    # The notice goes out at once; the text messages wait for the staff's gateway.
    assert send_due() == counts(sent=1, sms_waiting=4)
    # The reminder waits for its time, and the notice is not sent again.
    assert send_due(now=at(MONDAY, 9, 59)) == counts(sms_waiting=4)
    assert send_due(now=at(MONDAY, 10)) == counts(sent=1, sms_waiting=8)
    assert send_due(now=at(MONDAY, 10, 5)) == counts(sms_waiting=8)
    assert len(smtp.sent) == 2

    notice, reminder = smtp.sent
    for email in (notice, reminder):
        assert email["To"] == MEDIATOR_EMAIL and email["From"] == "tiaojie@example.cn"
        text = email.get_content()
        assert "张志强您好" in text and number in text
        assert "2027年3月16日（星期二）10:00至" in text and "第一调解室" in text
    assert notice["Subject"] == f"调解会通知（案件{number}）"
    assert "请携带身份证件" in notice.get_content()
    assert reminder["Subject"] == f"调解会提醒（案件{number}）"
    assert notice["Message-ID"] != reminder["Message-ID"]
    assert ("connect", "smtp.example.cn", 2525) in smtp.calls
    assert ("starttls",) in smtp.calls and ("login", "tiaojie", "s3cret") in smtp.calls

    sent = outbox(channel=Channel.EMAIL)
    assert [m.kind for m in sent] == [NOTICE, REMINDER]
    for message in sent:
        assert message.status is OutboxStatus.SENT and message.sent_at is not None
        assert message.attempts == 1 and message.last_error is None
    # The text messages wait for the staff's gateway.
    sms = outbox(channel=Channel.SMS)
    assert kinds(sms) == {NOTICE: 4, REMINDER: 4}
    assert {m.status for m in sms} == {OutboxStatus.PENDING}


def test_a_failing_server_is_retried_then_the_message_is_marked_failed(city, smtp):
    book(city)
    smtp.failures = 99
    due = at(MONDAY, 10)  # the notice and the reminder are both due by then

    assert send_due(now=due, max_attempts=3) == counts(retrying=2, sms_waiting=8)
    messages = outbox(channel=Channel.EMAIL)
    assert [m.kind for m in messages] == [NOTICE, REMINDER]
    for message in messages:
        assert message.status is OutboxStatus.PENDING and message.attempts == 1
        assert "SMTPRecipientsRefused" in message.last_error
        assert "mailbox busy" in message.last_error

    assert send_due(now=due, max_attempts=3) == counts(retrying=2, sms_waiting=8)
    assert send_due(now=due, max_attempts=3) == counts(failed=2, sms_waiting=8)
    for message in outbox(channel=Channel.EMAIL):
        assert message.status is OutboxStatus.FAILED and message.attempts == 3
        assert message.sent_at is None

    # Given up: not tried again, even once the server works.
    smtp.failures = 0
    assert send_due(now=due, max_attempts=3) == counts(sms_waiting=8)
    assert smtp.sent == []


def test_a_message_that_failed_once_goes_out_on_the_next_run(city, smtp):
    session = book(city)
    smtp.failures = 1
    # The notice fails; the reminder after it still goes out in the same run.
    assert send_due(now=at(MONDAY, 10)) == counts(sent=1, retrying=1, sms_waiting=8)
    assert send_due(now=at(MONDAY, 10, 10)) == counts(sent=1, sms_waiting=8)
    notice, reminder = outbox(channel=Channel.EMAIL)
    assert notice.kind == NOTICE and reminder.kind == REMINDER
    assert notice.status is OutboxStatus.SENT and notice.attempts == 2
    assert notice.last_error is None
    assert reminder.status is OutboxStatus.SENT and reminder.attempts == 1
    number = session.case.number
    assert [e["Subject"] for e in smtp.sent] == [f"调解会提醒（案件{number}）",
                                                 f"调解会通知（案件{number}）"]


def test_cancellations_go_out_and_withdrawn_messages_never_do(city, smtp):
    session = book(city)
    number = session.case.number
    assert send_due() == counts(sent=1, sms_waiting=4)  # the notice, at once
    cancel_session(city.mediator, session, "改期", seen_version=session.version)
    db.session.commit()
    assert send_due() == counts(sent=1, sms_waiting=4)  # the cancellation
    # Past the reminders' due time: only the cancellations' text messages are left.
    assert send_due(now=at(TUESDAY, 10)) == counts(sms_waiting=4)
    notice, cancellation = smtp.sent
    assert notice["Subject"] == f"调解会通知（案件{number}）"
    assert cancellation["Subject"] == f"调解会取消通知（案件{number}）"
    assert "已取消" in cancellation.get_content()

    # What went out stays sent; everything unsent was withdrawn.
    [sent_notice] = outbox(kind=NOTICE, channel=Channel.EMAIL)
    assert sent_notice.status is OutboxStatus.SENT
    assert {m.status for m in outbox(kind=NOTICE, channel=Channel.SMS)} == {
        OutboxStatus.CANCELLED}
    assert {m.status for m in outbox(kind=REMINDER)} == {OutboxStatus.CANCELLED}
    assert {m.status for m in outbox(kind=CANCELLATION, channel=Channel.SMS)} == {
        OutboxStatus.PENDING}


def test_two_runs_at_once_send_each_message_once(app, city, smtp):
    city.coordinator.email = "lihongmei@tiaojie.example.cn"
    city.legalaid.email = "chensiyuan@tiaojie.example.cn"
    db.session.commit()
    book(city)
    book(city, at(TUESDAY, 14))
    emails = outbox(channel=Channel.EMAIL)
    assert kinds(emails) == {NOTICE: 6, REMINDER: 6}
    subjects = sorted(m.subject for m in emails)
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
    assert len(results) == 2 and sum(r["sent"] for r in results) == 12
    assert sum(r["retrying"] + r["failed"] for r in results) == 0
    assert len(smtp.sent) == 12
    assert sorted(m["To"] for m in smtp.sent) == sorted(
        [MEDIATOR_EMAIL, "lihongmei@tiaojie.example.cn", "chensiyuan@tiaojie.example.cn"] * 4)
    assert sorted(m["Subject"] for m in smtp.sent) == subjects
    assert len({m["Message-ID"] for m in smtp.sent}) == 12
    assert {m.status for m in outbox(channel=Channel.EMAIL)} == {OutboxStatus.SENT}


def test_without_a_mail_server_email_waits_in_the_outbox(app, city, monkeypatch):
    app.config["MAIL_SERVER"] = None
    monkeypatch.setattr(smtplib, "SMTP", None)  # never touched
    book(city)
    assert send_due() == counts(sms_waiting=4, email_waiting=1)  # the notices
    assert send_due(now=at(MONDAY, 10)) == counts(sms_waiting=8, email_waiting=2)
    assert {m.status for m in outbox()} == {OutboxStatus.PENDING}


# ---- the command ----------------------------------------------------------------------------

def make_due(messages: list[OutboxMessage]) -> None:
    for message in messages:
        message.due_at = datetime.now(UTC) - timedelta(minutes=5)
    db.session.commit()


def rows(output: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(output)))


def test_send_reminders_sends_and_prints_the_counts(city, smtp, runner):
    session = book(city)
    result = runner.invoke(args=["send-reminders"])  # the notices are due at once
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry, 0 failed" in result.output
    assert "4 text messages wait for the SMS gateway" in result.output

    make_due(outbox(kind=REMINDER))
    due = runner.invoke(args=["send-reminders"])
    assert due.exit_code == 0, due.output
    assert "1 sent, 0 to retry, 0 failed" in due.output
    assert "8 text messages wait for the SMS gateway" in due.output
    again = runner.invoke(args=["send-reminders"])
    assert again.exit_code == 0, again.output
    assert "0 sent" in again.output
    number = session.case.number
    assert [e["Subject"] for e in smtp.sent] == [f"调解会通知（案件{number}）",
                                                 f"调解会提醒（案件{number}）"]


def test_list_sms_prints_csv_and_mark_sent_marks_them(app, city, runner):
    app.config["MAIL_SERVER"] = None
    session = book(city)
    number = session.case.number

    def expected(messages):
        """The CSV rows for these messages, due time in China's time, oldest first."""
        return [[m.recipient, m.due_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M"), m.body]
                for m in sorted(messages, key=lambda m: (m.due_at, m.id))]

    # At once: the notices; the reminders are not due yet.
    result = runner.invoke(args=["send-reminders", "--list-sms"])
    assert result.exit_code == 0, result.output
    header, *lines = rows(result.stdout)
    assert header == ["recipient", "due_at", "text"]
    assert lines == expected(outbox(kind=NOTICE, channel=Channel.SMS))
    assert sorted(line[0] for line in lines) == sorted(PHONES)
    assert all("调解会定于2027年3月16日（星期二）10:00至" in text for _r, _d, text in lines)

    make_due(outbox(kind=REMINDER))
    plain = runner.invoke(args=["send-reminders"])
    assert "8 text messages wait" in plain.output and "2 emails wait" in plain.output

    listed = runner.invoke(args=["send-reminders", "--list-sms"])
    assert listed.exit_code == 0, listed.output
    header, *lines = rows(listed.stdout)
    assert header == ["recipient", "due_at", "text"]
    assert lines == expected(outbox(channel=Channel.SMS))
    assert sorted(line[0] for line in lines) == sorted(PHONES * 2)
    for phone in PHONES:  # each phone gets the notice and the reminder
        texts = [text for recipient, _due, text in lines if recipient == phone]
        assert sorted("定于" in text for text in texts) == [False, True]
        assert all(number in text and "2027年3月16日（星期二）10:00至" in text for text in texts)
    # Listing alone changes nothing.
    assert {m.status for m in outbox(channel=Channel.SMS)} == {OutboxStatus.PENDING}

    refused = runner.invoke(args=["send-reminders", "--mark-sent"])
    assert refused.exit_code == 2

    marked = runner.invoke(args=["send-reminders", "--list-sms", "--mark-sent"])
    assert marked.exit_code == 0, marked.output
    assert rows(marked.stdout) == rows(listed.stdout)
    assert "8 text messages marked sent" in marked.stderr
    sms = outbox(channel=Channel.SMS)
    assert {m.status for m in sms} == {OutboxStatus.SENT}
    assert all(m.sent_at is not None and m.exported_at == m.sent_at for m in sms)
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "outbox.sms_export"))
    assert entry.after["count"] == 8 and sorted(entry.after["ids"]) == sorted(m.id for m in sms)
    assert verify_chain().ok

    # The second run hands nothing over twice; the email still waits for a mail server.
    again = runner.invoke(args=["send-reminders", "--list-sms", "--mark-sent"])
    assert rows(again.stdout) == [["recipient", "due_at", "text"]]
    assert "0 text messages marked sent" in again.stderr
    emails = outbox(channel=Channel.EMAIL)
    assert [m.kind for m in emails] == [NOTICE, REMINDER]
    assert {m.status for m in emails} == {OutboxStatus.PENDING}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.SENT)) == 8
