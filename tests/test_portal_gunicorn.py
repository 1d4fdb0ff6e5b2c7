"""Guessing access codes under `gunicorn -w 4`: the counts of wrong pairs are shared by the
workers (they live in the database), so the limit holds whichever worker answers."""

import re
import uuid
from http.cookies import SimpleCookie

from cases_helpers import applicant, make_case, make_city, respondent
from conftest import DEMO_PASSWORD, csrf_from
from cryptography.fernet import Fernet
from gunicorn_helpers import call
from sqlalchemy import select
from test_rate_limits import gunicorn

from mediation import create_app
from mediation.extensions import db
from mediation.sessions.reminders import ACCESS, OutboxMessage


class Resident:
    """A phone at ``address`` that opened the "check my case" form."""

    def __init__(self, port: int, address: str):
        self.port, self.address = port, address
        status, set_cookie, page, _location = call(port, "GET", "/status", address=address)
        assert status == 200
        self.cookie = f"mediation_session={SimpleCookie(set_cookie)['mediation_session'].value}"
        self.token = csrf_from(page)

    def check(self, number: str, code: str) -> tuple[int, str]:
        reply = call(self.port, "POST", "/status", address=self.address, cookie=self.cookie,
                     form={"csrf_token": self.token, "case_number": number,
                           "access_code": code})
        return reply.status, reply.body


def _seed(url: str, key: str) -> dict:
    """Two cases with a party each; the codes as their SMS texts carry them."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, FIELD_ENCRYPTION_KEY=key,
                     DEMO_PASSWORD=DEMO_PASSWORD)
    with app.app_context():
        city = make_city()
        cases = [make_case(city.mediator, grid=city.east_1, parties=[
            applicant(name, phone=phone), respondent("李卫东")])
            for name, phone in (("王建国", "13800138000"), ("赵六", "13700001111"))]
        db.session.commit()
        seeded = {}
        for case in cases:
            body = db.session.scalar(select(OutboxMessage.body).where(
                OutboxMessage.party_id == case.parties[0].id, OutboxMessage.kind == ACCESS))
            seeded[case.number] = re.search(r"查询码(\d{8})", body).group(1)
        db.session.remove()
        db.engine.dispose()
    return seeded


def test_wrong_codes_are_limited_whichever_gunicorn_worker_answers(database, tmp_path):
    url = database.fresh_uri(f"portal_gunicorn_{uuid.uuid4().hex[:6]}")
    key = Fernet.generate_key().decode()
    (number, code), (other, other_code) = _seed(url, key).items()
    wrong = "00000000" if code != "00000000" else "11111111"
    with gunicorn(tmp_path, url, FIELD_ENCRYPTION_KEY=key, TRUSTED_PROXIES="1",
                  RATELIMIT_STORAGE_URI="database://", PORTAL_ADDRESS_RATE_LIMIT="10 per hour",
                  PORTAL_CASE_RATE_LIMIT="20 per day") as (port, access):
        # Per address: ten wrong pairs, then every pair is refused, the right one too.
        phone = Resident(port, "198.51.100.7")
        answers = [phone.check(number, wrong)[0] for _ in range(10)]
        assert answers == [200] * 10
        status, page = phone.check(number, wrong)
        assert status == 429 and "错误次数过多" in page
        assert phone.check(number, code)[0] == 429
        # Per case number: ten more from another address make twenty; then even a new
        # address with the right code is refused for this case, not for another.
        second = Resident(port, "198.51.100.8")
        assert [second.check(number, wrong)[0] for _ in range(10)] == [200] * 10
        third = Resident(port, "198.51.100.9")
        assert third.check(number, code)[0] == 429
        assert third.check(other, other_code)[0] == 303
        log = access.read_text()
    workers = {line.split()[0] for line in log.splitlines() if " POST /status " in line}
    assert len(workers) > 1, "one worker answered every attempt: nothing was shared"
    assert number not in log and code not in log and wrong not in log
