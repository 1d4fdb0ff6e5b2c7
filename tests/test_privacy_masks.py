"""No identity number or phone can be rebuilt from what a role sees without an audited reveal.

The birth date and gender stand beside the number on the case page, the party form, the API
and the agreement; the address often names the district.  So a mask may keep only the last
four characters: the region digits must appear nowhere a role looks without a reveal.
"""

import re
from datetime import date, timedelta

import pytest
from api_helpers import API, bearer, case_in_mediation, cli_token, person
from sqlalchemy import select

from mediation.cases.models import Case, Party
from mediation.core import audit
from mediation.core.audit import AuditEntry
from mediation.core.identity import id_check_char
from mediation.extensions import db


def _id_number(region: str, birth: str, sequence: str) -> str:
    first17 = region + birth + sequence
    return first17 + id_check_char(first17)


APPLICANT_ID = _id_number("370502", "19750308", "123")  # born 1975-03-08, male
RESPONDENT_ID = _id_number("370521", "19800214", "246")  # born 1980-02-14, female
PHONES = ("13805461234", "13905467788")

# Everyone who may open the case; the legal-aid volunteer is not on it.
ROLES = ("mediator", "coordinator", "admin", "gridworker")


@pytest.fixture
def mediator(demo_city):
    return bearer(cli_token(demo_city, "mediator"))


def _pages(number: str, party_ids: list[int]) -> list[str]:
    pages = [f"/cases/{number}", f"/cases?q={number}", "/cases?queue=all",
             f"/cases/{number}/timeline"]
    pages += [f"/cases/{number}/parties/{pid}/edit" for pid in party_ids]
    return pages


def _date_shown(day: date, text: str) -> bool:
    forms = {day.isoformat(), day.strftime("%Y%m%d"), day.strftime("%Y/%m/%d"),
             f"{day.year}年{day.month}月{day.day}日", day.strftime("%Y年%m月%d日")}
    return any(form in text for form in forms)


def _candidates(number: str, text: str) -> list[str]:
    """The numbers that fit what is seen, with the region and the last four known."""
    region, tail = number[:6], number[-4:]
    year = int(number[6:10])
    found = []
    for offset in range(366):
        day = date(year, 1, 1) + timedelta(days=offset)
        if day.year != year:
            break
        first17 = region + day.strftime("%Y%m%d") + tail[:3]
        if id_check_char(first17) == tail[3] and (
                _date_shown(day, text) or not any(_date_shown(d, text) for d in _born(year))):
            found.append(first17 + tail[3])
    return found


def _born(year: int):
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def _digit_runs(text: str) -> set[str]:
    return set(re.findall(r"[0-9Xx]{4,}", text))


def test_nothing_a_role_sees_without_a_reveal_rebuilds_a_number(demo_city, client, auth,
                                                                mediator):
    case = case_in_mediation(client, mediator, parties=[
        person("applicant", "王建国", id_type="resident_id", id_number=APPLICANT_ID,
               birth_date="1975-03-08", phone=PHONES[0]),
        person("respondent", "李卫东", id_type="resident_id", id_number=RESPONDENT_ID,
               birth_date="1980-02-14", gender="female", phone=PHONES[1])])
    parties = db.session.scalars(
        select(Party).join(Party.case).where(Case.number == case["number"])).all()
    seen: list[str] = []
    for role in ROLES:
        headers = bearer(cli_token(demo_city, role, name=f"{role}-token"))
        for url in (f"{API}/cases/{case['number']}", f"{API}/cases/{case['number']}/parties",
                    f"{API}/cases?q=王建国"):
            response = client.get(url, headers=headers)
            if response.status_code == 200:
                seen.append(response.get_data(as_text=True))
        auth.login(role)
        for url in _pages(case["number"], [p.id for p in parties]):
            response = client.get(url)
            if response.status_code == 200:
                seen.append(response.get_data(as_text=True))
        auth.logout()
    everything = "\n".join(seen)

    # The details that sit beside the numbers are there: the test is not vacuous.
    assert "1975" in everything and "1980" in everything
    assert f"**************{APPLICANT_ID[-4:]}" in everything
    assert "*******1234" in everything and "*******7788" in everything
    runs = _digit_runs(everything)
    for number in (APPLICANT_ID, RESPONDENT_ID):
        assert not any(number in run for run in runs), number
        # Grant the attacker the region (the address names the district): what is seen
        # must still leave many numbers possible.
        assert len(_candidates(number, everything)) >= 10, number
    for phone in PHONES:
        assert not any(phone[:7] in run for run in runs), phone
    assert not db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.id_number.read")).all()


def test_a_reveal_shows_the_whole_number_and_is_audited(demo_city, client, auth, mediator):
    case = case_in_mediation(client, mediator, parties=[
        person("applicant", "王建国", id_type="resident_id", id_number=APPLICANT_ID,
               birth_date="1975-03-08"),
        person("respondent", "李卫东")])
    party = db.session.scalar(select(Party).join(Party.case).where(Case.number == case["number"],
                                                  Party.name == "王建国"))
    auth.login("mediator")
    page = auth.post(f"/cases/{case['number']}/parties/{party.id}/reveal",
                     form_url=f"/cases/{case['number']}").get_data(as_text=True)
    assert APPLICANT_ID in page
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "party.id_number.read"))
    assert entry is not None and entry.object_id == str(party.id)


def test_the_audit_log_shows_old_entries_with_the_new_mask(demo_city, client, auth):
    # Written before masks kept only the last four characters.
    audit.record("case.create", object_type="Case", object_id="2026-000001", actor_name="system",
                 after={"parties": [{"name": "王建国", "id_number": "110105********002X"}]})
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "**************002X" in page and "110105" not in page
