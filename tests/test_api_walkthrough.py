"""scripts/api_walkthrough.py, run as an integrator would: a token, the API alone, a case from
the hotline to the court's ruling — while a webhook receiver (the hotline's) gets a signed
delivery for each step, one of them again after answering 500 once, and no event twice
under different ids. The script speaks HTTP through a transport; here Flask's test client
carries it, so that the clock can be moved past the session in between."""

import importlib.util
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api_helpers import GRID, cli_token
from test_webhooks import Receiver

from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.sessions import minutes as minutes_module
from mediation.sessions import operations as session_ops
from mediation.users.operations import find_user
from mediation.webhooks import delivery, operations
from mediation.webhooks.models import EventType
from mediation.webhooks.operations import SubscriberInput

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "api_walkthrough.py"
TICKET = "SD12345-20261207-0099"


def load_script():
    spec = importlib.util.spec_from_file_location("api_walkthrough", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cast_as_a_client_the_api_takes_a_hotline_case_to_its_ruling(demo_city, client,
                                                                      monkeypatch):
    walk = load_script()
    receiver = Receiver()
    try:
        subscriber, receiver.secret = operations.create_subscriber(
            find_user("admin"), SubscriberInput(name="12345热线", url=receiver.url,
                                                event_types=[t.value for t in EventType],
                                                area=None))
        db.session.commit()
        said = []

        def send(method, url, headers, body):
            response = client.open(url, method=method, headers=headers, data=body)
            return response.status_code, dict(response.headers), response.get_data()

        api = walk.Api("", cli_token(demo_city, "mediator"), send=send, log=said.append)
        case, session = walk.intake_and_book(api, grid=GRID, volunteer="legalaid",
                                             ticket=TICKET, around=utcnow() + timedelta(days=1))
        roles = Counter(p["role"] for p in session["participants"])
        assert roles["legal_aid"] == 1 and roles["invited"] == 1 and roles["party"] == 2
        guest = next(p for p in session["participants"] if p["role"] == "invited")
        masked = guest["phone_masked"]
        assert masked != walk.GUEST["phone"] and masked.endswith("0001")
        assert any("refused" in line for line in said)  # the same people again: 409

        # The first delivery fails: the receiver answers 500 once.
        start = utcnow() + timedelta(minutes=5)
        receiver.answers, receiver.now = [500], start
        assert delivery.deliver_due(now=start).retrying == 1

        held = datetime.fromisoformat(session["ends_at"]).astimezone(UTC)
        for module in (session_ops, minutes_module):
            monkeypatch.setattr(module, "utcnow", lambda: held)
        closed = walk.after_session(api, case["number"], session["id"],
                                    on=utcnow().astimezone(walk.CHINA).date())
        assert closed["state"] == "closed" and closed["hotline_ticket"] == TICKET
        assert said[-1].endswith("entries on its timeline") and len(said) == 11

        later = start + timedelta(minutes=2)  # past the first retry's back-off
        receiver.now = later
        report = delivery.deliver_due(now=later)
        assert (report.retrying, report.given_up) == (0, 0)
    finally:
        receiver.close()

    got = receiver.received
    assert got and all(r.signed for r in got)
    types = [r.payload["type"] for r in got]
    for step in ("case.created", "case.accepted", "session.booked", "case.settled",
                 "agreement.issued", "confirmation.ruled", "case.closed"):
        assert step in types, step
    assert all(r.payload["case"]["hotline_ticket"] == TICKET for r in got)
    # The 500 was retried: the same event, the same bytes.
    assert got[0].answered == 500
    retried = [r for r in got[1:] if r.event_id == got[0].event_id]
    assert len(retried) == 1 and retried[0].body == got[0].body
    # No event twice under different ids, and no id for two different events.
    ids_of = {}
    for r in got:
        key = (r.payload["type"], r.payload["occurred_at"])
        ids_of.setdefault(key, set()).add(r.event_id)
    assert all(len(ids) == 1 for ids in ids_of.values())
    assert len({r.event_id for r in got}) == len(ids_of)
