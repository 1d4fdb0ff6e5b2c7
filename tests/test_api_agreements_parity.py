"""Everything the agreement's page does, through the API: the draft built step by step (its
text, its terms, its parties' missing details, the preview), discarded or corrected;
signatures and the signed copy; performance and instalments; judicial confirmation from
eligibility to the ruling — with the page's rules, refusals, timeline entries and audit
entries, and nothing of another community's cases.  Run on PostgreSQL too."""

import base64
import hashlib
import re
import subprocess
from datetime import date, timedelta

import pytest
from api_helpers import (
    API,
    agreement_body,
    bearer,
    case_in_mediation,
    cli_token,
    issued_agreement,
    other_community_mediator,
    person,
    post_ok,
)
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from cases_helpers import area
from conftest import Auth
from sqlalchemy import func, select

from mediation.agreements import rules
from mediation.agreements.models import Agreement, JudicialConfirmation
from mediation.areas.models import Court
from mediation.cases.models import Attachment, Case, CaseEvent, Party
from mediation.cases.rules import today
from mediation.core.audit import AuditEntry
from mediation.extensions import db

SCAN = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture
def mediator(demo_city):
    """The demo mediator 张志强 (文苑社区), answered in English."""
    return bearer(cli_token(demo_city, "mediator"), **{"Accept-Language": "en"})


@pytest.fixture
def outsider(demo_city):
    """王建国, mediator of 清风社区 and 明德社区: none of 文苑社区's cases are his."""
    return bearer(cli_token(demo_city, other_community_mediator(), name="清风社区平板"))


@pytest.fixture
def scans(app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path)


def _get(client, url: str, headers: dict, status: int = 200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.status_code, response.get_data()[:300])
    return response.get_json() if response.is_json else response


def _call(client, method: str, url: str, headers: dict, body=None):
    return getattr(client, method)(url, json=body, headers=headers)


def _audits(action: str, number: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.object_id == number))


def _events(client, headers: dict, number: str) -> list[str]:
    return [e["reason"] or "" for e in
            _get(client, f"{API}/cases/{number}/events", headers)["items"]]


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode("utf-8")
    return re.sub(r"\s+", "", out)


def _sign_all(client, headers: dict, agreement: dict, day: date | None = None) -> dict:
    url = f"{API}/agreements/{agreement['id']}/signatures"
    signed_on = (day or today()).isoformat()
    for party_id in [s["party_id"] for s in agreement["signatures"] if s["signer"] == "party"]:
        post_ok(client, url, headers, {"signer": "party", "party_id": party_id,
                                       "signed_on": signed_on})
    post_ok(client, url, headers, {"signer": "mediator", "signed_on": signed_on})
    return post_ok(client, url, headers, {"signer": "seal", "signed_on": signed_on})


def _in_force(client, headers: dict, **case_fields) -> tuple[dict, dict]:
    case = case_in_mediation(client, headers, **case_fields)
    return case, _sign_all(client, headers, issued_agreement(client, headers, case))


# ---- the draft ---------------------------------------------------------------------------------

def test_a_draft_is_built_step_by_step_as_in_the_builder(client, mediator):
    case = case_in_mediation(client, mediator, parties=[
        person("applicant", "王建国"), {"role": "respondent", "name": "李卫东"}])
    number = case["number"]
    wang, li = (p["id"] for p in case["parties"])
    draft = post_ok(client, f"{API}/cases/{number}/agreements", mediator,
                    agreement_body(case), 201)
    url = f"{API}/agreements/{draft['id']}"
    assert draft["mediator"] == "mediator" and draft["facts"] == case["narrative"]

    # What the builder lists before issuing: 李卫东's block lacks his gender, occupation…
    problems = _get(client, f"{url}/problems", mediator)
    lacking = [p for p in problems["items"] if "李卫东" in p["message"]]
    assert [p["field"] for p in lacking] == ["parties"] and "occupation" in lacking[0]["message"]
    refused = _problem(client.post(f"{url}/issue", json={}, headers=mediator), 422)
    assert refused["detail"] == problems["items"][0]["message"]

    # …completed inside the agreement, on the case's party, as the builder does.
    for body, field in (({"gender": "male", "phone": "12345"}, "phone"),
                        ({"birth_date": "2099-01-01"}, "birth_date"),
                        ({"gender": "unknown"}, "gender"), ({"uscc": "x"}, "uscc"),
                        ({"legal_representative": "赵明"}, "legal_representative")):
        bad = client.post(f"{url}/parties/{li}", json=body, headers=mediator)
        assert _fields(_problem(bad, 422)) == {field}, body
    assert db.session.get(Party, li).gender is None  # nothing saved
    completed = post_ok(client, f"{url}/parties/{li}", mediator, {
        "gender": "male", "ethnicity": "汉族", "birth_date": "1982-11-20", "occupation": "个体经营",
        "address": "东营市东湖区文苑小区3号楼402室", "phone": "13905467788"})
    assert set(completed["filled"]) == {"gender", "ethnicity", "birth_date", "occupation",
                                        "address", "phone"}
    assert completed["party"]["phone_masked"] == "*******7788"
    assert "13905467788" not in str(completed)
    # What is recorded stays (the case's party form changes it).
    again = _problem(client.post(f"{url}/parties/{li}", json={"occupation": "教师"},
                                 headers=mediator), 422)
    assert again["detail"] == "Nothing was saved: fill in at least one of the details."
    assert db.session.get(Party, li).occupation == "个体经营"
    _problem(client.post(f"{url}/parties/999999", json={"occupation": "x"},
                         headers=mediator), 404)
    assert not [p for p in _get(client, f"{url}/problems", mediator)["items"]
                if "李卫东" in p["message"]]
    assert "Party details edited: 李卫东" in _events(client, mediator, number)
    assert _audits("case.party.update", number) == 1

    # The text, as the builder's form saves it: what is given changes, the rest stays.
    version = _get(client, url, mediator)["lock_version"]
    saved = client.patch(url, json={
        "disputed_matters": "赔偿数额。", "copies": 4, "recorder_name": "赵六",
        "responsibilities": [{"party_id": wang, "text": "无责任。"}], "lock_version": version},
        headers=mediator)
    assert saved.status_code == 200, saved.get_json()
    saved = saved.get_json()
    assert (saved["disputed_matters"], saved["copies"], saved["recorder_name"]) == \
        ("赔偿数额。", 4, "赵六")
    assert saved["facts"] == case["narrative"]
    assert [r["text"] for r in saved["responsibilities"]] == [
        "无责任。", "卫生间防水层老化未及时维修，对损失负全部责任。"]
    stale = client.patch(url, json={"copies": 5, "lock_version": version}, headers=mediator)
    assert "Someone else changed" in _problem(stale, 409)["detail"]
    for body, field in (({"copies": 2}, "copies"), ({"mediator": "nobody"}, "mediator"),
                        ({"mediator": "gridworker"}, "mediator"),
                        ({"inviting_court_id": 2**31 - 1}, "inviting_court_id"),
                        ({"responsibilities": [{"party_id": 999999, "text": "x"}]},
                         "responsibilities")):
        assert _fields(_problem(client.patch(url, json=body, headers=mediator), 422)) == \
            {field}, body
    assert _get(client, url, mediator)["copies"] == 4
    cleared = client.patch(url, json={"mediator": None}, headers=mediator).get_json()
    assert cleared["mediator"] is None
    assert "mediator" in {p["field"] for p in _get(client, f"{url}/problems", mediator)["items"]}
    assert client.patch(url, json={"mediator": "mediator"}, headers=mediator).get_json()[
        "mediator"] == "mediator"

    # Terms: added, changed, moved and deleted, numbered as on the page.
    term = {"content": "李卫东向王建国赔礼道歉", "obligor_id": li, "obligee_id": wang,
            "on_the_spot": True}
    added = client.post(f"{url}/terms", json=term, headers=mediator)
    assert added.status_code == 201, added.get_json()
    third = added.get_json()
    assert third["position"] == 3
    assert _get(client, added.headers["Location"], mediator) == third
    changed = client.put(f"{API}/agreements/terms/{third['id']}", headers=mediator, json={
        **term, "content": "李卫东向王建国书面赔礼道歉"})
    assert changed.status_code == 200
    assert changed.get_json()["content"] == "李卫东向王建国书面赔礼道歉"
    wrong = client.put(f"{API}/agreements/terms/{third['id']}", headers=mediator,
                       json={**term, "obligee_id": li})
    assert _fields(_problem(wrong, 422)) == {"obligee_ids"}
    moved = post_ok(client, f"{API}/agreements/terms/{third['id']}/move", mediator,
                    {"direction": "up"})
    assert [t["content"][:5] for t in moved["terms"]] == ["李卫东赔偿", "李卫东向王", "李卫东于本"]
    first = moved["terms"][0]["id"]
    left = client.delete(f"{API}/agreements/terms/{first}", headers=mediator)
    assert left.status_code == 200
    assert [(t["position"], t["id"]) for t in left.get_json()["terms"]] == \
        [(1, third["id"]), (2, moved["terms"][2]["id"])]
    _get(client, f"{API}/agreements/terms/{first}", mediator, 404)

    # The preview, as the builder shows it, audited; then issued, it no longer changes.
    preview = _get(client, f"{url}/preview", mediator)
    assert preview.mimetype == "application/pdf" and preview.data.startswith(b"%PDF-")
    assert _audits("case.agreement.preview.read", number) == 1
    issued = post_ok(client, f"{url}/issue", mediator)
    assert issued["status"] == "issued" and len(issued["terms"]) == 2
    for method, target, body in (("post", f"{url}/terms", term),
                                 ("put", f"{API}/agreements/terms/{third['id']}", term),
                                 ("delete", f"{API}/agreements/terms/{third['id']}", None),
                                 ("patch", url, {"copies": 5})):
        refused = _problem(_call(client, method, target, mediator, body), 422)
        assert "make a correction" in refused["detail"], target
    assert "download its PDF" in _problem(client.get(f"{url}/preview", headers=mediator),
                                          409)["detail"]
    assert "make a correction" in _problem(client.post(
        f"{url}/parties/{li}", json={"occupation": "x"}, headers=mediator), 422)["detail"]


def test_a_draft_is_discarded_and_an_issued_agreement_corrected(client, mediator):
    case = case_in_mediation(client, mediator)
    number = case["number"]
    draft = post_ok(client, f"{API}/cases/{number}/agreements", mediator,
                    agreement_body(case), 201)
    discarded = client.post(f"{API}/agreements/{draft['id']}/discard", headers=mediator)
    assert discarded.status_code == 204 and discarded.data == b""
    _get(client, f"{API}/agreements/{draft['id']}", mediator, 404)
    assert "Draft agreement discarded." in _events(client, mediator, number)
    assert _audits("case.agreement.discard", number) == 1

    agreement = issued_agreement(client, mediator, case)
    url = f"{API}/agreements/{agreement['id']}"
    assert "make a correction" in _problem(client.post(f"{url}/discard", headers=mediator),
                                           422)["detail"]
    corrected = client.post(f"{url}/correct", headers=mediator)
    assert corrected.status_code == 201, corrected.get_json()
    correction = corrected.get_json()
    assert (correction["version"], correction["status"], correction["supersedes_id"]) == \
        (2, "draft", agreement["id"])
    assert [t["content"] for t in correction["terms"]] == \
        [t["content"] for t in agreement["terms"]]
    assert _get(client, corrected.headers["Location"], mediator) == correction
    assert "already being drafted" in _problem(client.post(f"{url}/correct", headers=mediator),
                                               422)["detail"]
    post_ok(client, f"{API}/agreements/{correction['id']}/issue", mediator)
    assert _get(client, url, mediator)["status"] == "superseded"


# ---- signatures and the signed copy ------------------------------------------------------------

def test_signatures_put_the_agreement_in_force_as_on_its_page(client, mediator):
    case = case_in_mediation(client, mediator)
    agreement = issued_agreement(client, mediator, case)
    url = f"{API}/agreements/{agreement['id']}/signatures"
    wang, li = (p["id"] for p in case["parties"])
    day = today().isoformat()
    for body, field in (
            ({"signer": "party", "party_id": wang,
              "signed_on": (today() - timedelta(days=1)).isoformat()}, "signed_on"),
            ({"signer": "party", "party_id": wang,
              "signed_on": (today() + timedelta(days=1)).isoformat()}, "signed_on"),
            ({"signer": "party", "signed_on": day}, "party_id"),
            ({"signer": "seal", "party_id": wang, "signed_on": day}, "party_id"),
            ({"signer": "party", "party_id": 999999, "signed_on": day}, "signer"),
            ({"signer": "janitor", "signed_on": day}, "signer")):
        assert _fields(_problem(client.post(url, json=body, headers=mediator), 422)) == {field}

    post_ok(client, url, mediator, {"signer": "party", "party_id": wang, "signed_on": day})
    post_ok(client, url, mediator, {"signer": "party", "party_id": li, "signed_on": day,
                                    "method": "fingerprint"})
    signed = post_ok(client, url, mediator, {"signer": "mediator", "signed_on": day})
    assert signed["effective_on"] is None and not signed["in_force"]  # no seal yet
    assert signed["confirmation_deadline"] is None
    signed = post_ok(client, url, mediator, {"signer": "seal", "signed_on": day})
    assert signed["effective_on"] == day and signed["in_force"]
    assert signed["confirmation_deadline"] == rules.confirmation_deadline(today()).isoformat()
    assert [(s["signer"], s["party_id"], s["signed_on"], s["method"])
            for s in signed["signatures"]] == [
        ("party", wang, day, "signature"), ("party", li, day, "fingerprint"),
        ("mediator", None, day, None), ("recorder", None, None, None), ("seal", None, day, None)]
    assert _get(client, f"{API}/agreements/{agreement['id']}", mediator) == signed
    events = _events(client, mediator, case["number"])
    assert f"Agreement {agreement['number']} in force from {day}." in events
    assert sum("Signature of" in e for e in events) == 4
    assert _audits("case.agreement.sign", case["number"]) == 4


def test_the_signed_copy_is_checked_kept_and_downloaded(client, mediator, scans):
    case = case_in_mediation(client, mediator)
    agreement = issued_agreement(client, mediator, case)
    url = f"{API}/agreements/{agreement['id']}/signed_copy"
    day = today().isoformat()
    _problem(client.get(url, headers=mediator), 404)
    for body, field in (
            ({"file": "not base64!", "completed_on": day}, "file"),
            ({"file": base64.b64encode(b"plain text").decode(), "completed_on": day}, "file"),
            ({"file": "", "completed_on": day}, "file"),
            ({"file": base64.b64encode(SCAN).decode(),
              "completed_on": (today() - timedelta(days=1)).isoformat()}, "completed_on")):
        assert _fields(_problem(client.post(url, json=body, headers=mediator), 422)) == \
            {field}, body
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0

    # Line breaks in the base64, as many encoders write it, are fine.
    encoded = base64.encodebytes(SCAN).decode()
    assert "\n" in encoded.strip()
    kept = post_ok(client, url, mediator, {"file": encoded, "filename": "签字版.pdf",
                                           "completed_on": day})
    assert kept["effective_on"] == day and kept["in_force"]
    copy = kept["signed_copy"]
    assert (copy["filename"], copy["content_type"], copy["size"], copy["sha256"],
            copy["completed_on"]) == ("签字版.pdf", "application/pdf", len(SCAN),
                                      hashlib.sha256(SCAN).hexdigest(), day)
    downloaded = client.get(url, headers=mediator)
    assert downloaded.status_code == 200 and downloaded.data == SCAN
    assert downloaded.mimetype == "application/pdf"
    assert "UTF-8''%E7%AD%BE" in downloaded.headers["Content-Disposition"]
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "attachment.read", AuditEntry.note == case["number"])) == 1
    assert _audits("case.agreement.signed_copy", case["number"]) == 1

    # A photo of it replaces it; without a name it is called as on the page.
    kept = post_ok(client, url, mediator, {"file": base64.b64encode(PHOTO).decode(),
                                           "completed_on": day})
    assert (kept["signed_copy"]["filename"], kept["signed_copy"]["content_type"]) == \
        ("signed.pdf", "image/jpeg")
    assert client.get(url, headers=mediator).mimetype == "image/jpeg"


def test_a_scan_as_large_as_the_page_takes_fits_the_api_s_body(app, client, mediator, scans):
    """base64 is a third larger than the file: the signed copy's body may be larger than any
    other body, so that the API takes the largest scan the page takes, and no larger."""
    app.config.update(MAX_CONTENT_LENGTH=60_000, MAX_ATTACHMENT_BYTES=50_000)
    case = case_in_mediation(client, mediator)
    agreement = issued_agreement(client, mediator, case)
    url = f"{API}/agreements/{agreement['id']}/signed_copy"
    day = today().isoformat()
    largest = SCAN + b"\0" * (50_000 - len(SCAN))
    body = {"file": base64.b64encode(largest).decode(), "completed_on": day}
    assert len(str(body)) > 60_000
    assert post_ok(client, url, mediator, body)["signed_copy"]["size"] == 50_000
    too_large = client.post(url, json={**body, "file": base64.b64encode(largest + b"\0")
                                       .decode()}, headers=mediator)
    assert "larger than" in _problem(too_large, 422)["detail"]
    far_too_large = client.post(url, json={**body, "file": "A" * 200_000}, headers=mediator)
    _problem(far_too_large, 413)
    # Every other body keeps the app's limit.
    _problem(client.patch(f"{API}/agreements/{agreement['id']}",
                          json={"facts": "事实" * 20_000}, headers=mediator), 413)


# ---- performance -------------------------------------------------------------------------------

def test_performance_and_instalments_are_recorded_on_the_agreement_in_force(client, mediator):
    case = case_in_mediation(client, mediator)
    wang, li = (p["id"] for p in case["parties"])
    later = today() + timedelta(days=60)
    body = agreement_body(case)
    body["terms"][0] = {"content": "李卫东分两期赔偿王建国天花板修复费用", "obligor_id": li,
                        "obligee_id": wang, "method": "银行转账", "instalments": [
                            {"due_on": (today() + timedelta(days=30)).isoformat(),
                             "amount": "2000"},
                            {"due_on": later.isoformat(), "amount": "1800"}]}
    draft = post_ok(client, f"{API}/cases/{case['number']}/agreements", mediator, body, 201)
    instalments = draft["terms"][0]["instalments"]
    assert [i["amount"] for i in instalments] == ["2000.00", "1800.00"]
    paid = f"{API}/agreements/instalments/{instalments[0]['id']}/paid"
    performed = f"{API}/agreements/terms/{draft['terms'][1]['id']}/performed"
    day = today().isoformat()
    assert "agreement in force" in _problem(client.post(paid, json={"paid_on": day},
                                                        headers=mediator), 422)["detail"]
    post_ok(client, f"{API}/agreements/{draft['id']}/issue", mediator)

    assert _fields(_problem(client.post(performed, json={
        "performed_on": (today() + timedelta(days=1)).isoformat()}, headers=mediator), 422)) \
        == {"performed_on"}
    after = post_ok(client, performed, mediator, {"performed_on": day})
    assert after["terms"][1]["performed_on"] == day
    assert [(p["position"], p["state"]) for p in after["performance"]] == [(1, "open"),
                                                                           (2, "performed")]
    assert after["performance"][1]["label"] == f"Performed on {day}"
    assert f"Term 二 performed on {day}." in _events(client, mediator, case["number"])

    after = post_ok(client, paid, mediator, {"paid_on": day})
    assert [i["paid_on"] for i in after["terms"][0]["instalments"]] == [day, None]
    assert after["terms"][0]["performed_on"] is None
    assert after["performance"][0]["label"] == "1 of 2 instalments paid"
    after = post_ok(client, f"{API}/agreements/instalments/{instalments[1]['id']}/paid",
                    mediator, {"paid_on": day})
    assert after["terms"][0]["performed_on"] == day
    assert after["performance"][0]["state"] == "performed"
    assert _audits("case.agreement.instalment", case["number"]) == 2
    assert _audits("case.agreement.perform", case["number"]) == 1


def test_an_overdue_term_shows_when_it_fell_due(client, mediator):
    case, agreement = _in_force(client, mediator)
    term = db.session.get(Agreement, agreement["id"]).terms[0]
    term.due_on = today() - timedelta(days=3)
    db.session.commit()
    performance = _get(client, f"{API}/agreements/{agreement['id']}", mediator)["performance"]
    assert (performance[0]["state"], performance[0]["overdue_since"]) == \
        ("overdue", term.due_on.isoformat())


# ---- judicial confirmation ---------------------------------------------------------------------

def test_judicial_confirmation_from_eligibility_to_the_ruling(client, mediator):
    case = case_in_mediation(client, mediator)
    number = case["number"]
    agreement = issued_agreement(client, mediator, case)
    url = f"{API}/agreements/{agreement['id']}"
    court = db.session.scalar(select(Court).where(Court.name == "东湖区人民法院"))

    # Not yet in force: the page's reason, and no application or filing.
    track = _get(client, f"{url}/eligibility", mediator)
    assert track["eligible"] and not track["may_apply"] and not track["may_file"]
    assert track["application_refusal"].startswith("Only an agreement in force can be")
    assert track["deadline"] is None and track["days_left"] is None
    refused = _problem(client.post(f"{url}/application", json={}, headers=mediator), 422)
    assert refused["detail"] == track["application_refusal"]

    _sign_all(client, mediator, agreement)
    track = _get(client, f"{url}/eligibility", mediator)
    deadline = rules.confirmation_deadline(today())
    assert track["may_apply"] and track["may_file"] and track["in_force"]
    assert track["application_refusal"] is None and track["application_closed"] is None
    assert track["deadline"] == deadline.isoformat()
    assert track["days_left"] == (deadline - today()).days >= 30
    competent = track["competent_courts"][0]
    assert (competent["index"], competent["court_id"], competent["name"]) == \
        (0, court.id, "东湖区人民法院")
    assert any("committee" in ground for ground in competent["grounds"])
    assert track["materials"][0] == "司法确认申请书" and agreement["number"] in \
        track["materials"][1]

    # The joint application, to the court chosen, as the page's button makes it.
    application = client.post(f"{url}/application", json={"court_index": 0}, headers=mediator)
    assert application.status_code == 200 and application.mimetype == "application/pdf"
    text = _pdf_text(application.data)
    assert "司法确认申请书" in text and "此致东湖区人民法院" in text and agreement["number"] in text
    assert _audits("case.agreement.application.read", number) == 1
    wrong = client.post(f"{url}/application", json={"court_index": 99}, headers=mediator)
    assert _fields(_problem(wrong, 422)) == {"court_index"}

    # Filing: with a competent court (or one named), not before the agreement took effect.
    elsewhere = Court(name="东湖区人民法院清风法庭", area=area("370599001002"))
    db.session.add(elsewhere)
    db.session.commit()
    filing = {"court_id": court.id, "filed_on": today().isoformat(),
              "case_reference": "（2026）鲁0599民特立12号"}
    for body, field in (({**filing, "court_id": elsewhere.id}, "court_id"),
                        ({**filing, "court_id": 2**31 - 1}, "court_id"),
                        ({**filing, "court_id": None}, "court_id"),
                        ({**filing, "filed_on": (today() + timedelta(days=1)).isoformat()},
                         "filed_on"),
                        ({**filing, "filed_on": (today() - timedelta(days=1)).isoformat()},
                         "filed_on")):
        assert _fields(_problem(client.post(f"{url}/confirmations", json=body,
                                            headers=mediator), 422)) == {field}, body
    assert "not competent" in _problem(client.post(f"{url}/confirmations", json={
        **filing, "court_id": elsewhere.id}, headers=mediator), 422)["detail"]
    filed = client.post(f"{url}/confirmations", json=filing, headers=mediator)
    assert filed.status_code == 201, filed.get_json()
    confirmation = filed.get_json()
    assert (confirmation["court"], confirmation["court_id"], confirmation["result"],
            confirmation["late"], confirmation["case_reference"]) == \
        ("东湖区人民法院", court.id, "pending", False, "（2026）鲁0599民特立12号")
    assert _get(client, filed.headers["Location"], mediator) == confirmation
    assert _get(client, f"{API}/cases/{number}/confirmations", mediator) == {
        "items": [confirmation], "total": 1}
    assert "already with a court" in _problem(client.post(
        f"{url}/confirmations", json={"court_name": "另一法院", "filed_on": filing["filed_on"]},
        headers=mediator), 422)["detail"]
    track = _get(client, f"{url}/eligibility", mediator)
    assert not track["may_file"] and track["confirmations"] == [confirmation]
    assert "with the court" in _problem(client.post(f"{url}/correct", headers=mediator),
                                        422)["detail"]

    # The ruling: confirmed with its number, the agreement is then enforceable.
    ruling = f"{API}/agreements/confirmations/{confirmation['id']}/ruling"
    decided = {"result": "confirmed", "ruled_on": today().isoformat(),
               "ruling_number": "（2026）鲁0599民特12号"}
    for body, field in (({**decided, "ruling_number": " "}, "ruling_number"),
                        ({**decided, "ruled_on": (today() - timedelta(days=1)).isoformat()},
                         "ruled_on"),
                        ({**decided, "result": "pending"}, "result")):
        assert _fields(_problem(client.post(ruling, json=body, headers=mediator), 422)) == \
            {field}, body
    ruled = post_ok(client, ruling, mediator, decided)
    assert (ruled["result"], ruled["ruling_number"], ruled["ruled_on"]) == \
        ("confirmed", "（2026）鲁0599民特12号", today().isoformat())
    last_day = db.session.get(Agreement, agreement["id"])
    assert ruled["enforcement_until"] == rules.enforcement_deadline(
        last_day, today()).isoformat()
    assert "already been recorded" in _problem(client.post(ruling, json={
        **decided, "result": "dismissed"}, headers=mediator), 422)["detail"]
    assert _get(client, f"{API}/public/agreements/{agreement['verification_code']}",
                {})["confirmed"] is True
    assert "confirmed this agreement" in _problem(client.post(f"{url}/correct",
                                                              headers=mediator), 422)["detail"]
    events = _events(client, mediator, number)
    assert f"东湖区人民法院: Confirmed valid on {today().isoformat()}." in events
    assert _audits("case.agreement.confirmation.file", number) == 1
    assert _audits("case.agreement.confirmation.ruling", number) == 1


def test_an_agreement_a_court_will_not_confirm_says_why(client, mediator):
    """A status relationship (marriage) is outside judicial confirmation (CPL-Interp 355):
    the page's reasons, and neither an application nor a filing."""
    case = case_in_mediation(client, mediator, category="marriage_family")
    wang, li = (p["id"] for p in case["parties"])
    body = agreement_body(case, disputed_matters="是否离婚。", terms=[
        {"content": "双方自愿离婚", "obligor_id": wang, "obligee_id": li, "on_the_spot": True}])
    draft = post_ok(client, f"{API}/cases/{case['number']}/agreements", mediator, body, 201)
    url = f"{API}/agreements/{draft['id']}"
    track = _get(client, f"{url}/eligibility", mediator)
    verdict = rules.eligibility(db.session.get(Agreement, draft["id"]))
    assert not track["eligible"] and track["refusals"] == verdict.refusals
    assert "marriage" in track["refusals"][0] and track["competent_courts"] == []
    _sign_all(client, mediator, post_ok(client, f"{url}/issue", mediator))
    track = _get(client, f"{url}/eligibility", mediator)
    assert track["application_refusal"] == track["filing_refusal"] == verdict.refusals[0]
    assert _problem(client.post(f"{url}/application", json={}, headers=mediator),
                    422)["detail"] == verdict.refusals[0]
    assert _problem(client.post(f"{url}/confirmations", json={
        "court_name": "东湖区人民法院", "filed_on": today().isoformat()}, headers=mediator),
        422)["detail"] == verdict.refusals[0]


def test_after_the_30_days_the_application_is_refused_with_what_remains(client, mediator):
    case, agreement = _in_force(client, mediator)
    url = f"{API}/agreements/{agreement['id']}"
    row = db.session.get(Agreement, agreement["id"])
    row.effective_on = today() - timedelta(days=40)
    db.session.commit()
    track = _get(client, f"{url}/eligibility", mediator)
    assert track["days_left"] < 0 and not track["may_apply"] and track["materials"] == []
    closed = track["application_closed"]
    assert closed == track["application_refusal"] and "People's Mediation Law art. 32" in closed
    assert _problem(client.post(f"{url}/application", json={}, headers=mediator),
                    422)["detail"] == closed
    # A filing the parties made anyway is recorded, marked late.
    filed = post_ok(client, f"{url}/confirmations", mediator, {
        "court_name": "东湖区人民法院", "filed_on": today().isoformat()}, 201)
    assert filed["late"] is True and filed["court_id"] is None


# ---- who may do what ---------------------------------------------------------------------------

def test_aftercare_goes_on_after_closure_but_the_agreement_no_longer_changes(client, mediator):
    case, agreement = _in_force(client, mediator)
    post_ok(client, f"{API}/cases/{case['number']}/close", mediator, {"note": "已结案"})
    url = f"{API}/agreements/{agreement['id']}"
    assert "closed" in _problem(client.patch(url, json={"copies": 5}, headers=mediator),
                                409)["detail"]
    _problem(client.post(f"{url}/correct", headers=mediator), 409)
    term = agreement["terms"][0]["id"]
    after = post_ok(client, f"{API}/agreements/terms/{term}/performed", mediator,
                    {"performed_on": today().isoformat()})
    assert after["terms"][0]["performed_on"] == today().isoformat()
    post_ok(client, f"{url}/signatures", mediator, {"signer": "recorder",
                                                    "signed_on": today().isoformat()})
    post_ok(client, f"{url}/confirmations", mediator, {"court_name": "东湖区人民法院",
                                                       "filed_on": today().isoformat()}, 201)


def test_a_grid_worker_reads_but_neither_drafts_nor_tracks(demo_city, client, mediator):
    gridworker = bearer(cli_token(demo_city, "gridworker", name="网格员手机"))
    case, agreement = _in_force(client, mediator)
    other = case_in_mediation(client, mediator)
    draft = post_ok(client, f"{API}/cases/{other['number']}/agreements", mediator,
                    agreement_body(other), 201)
    url = f"{API}/agreements/{agreement['id']}"
    assert _get(client, url, gridworker)["id"] == agreement["id"]
    assert _get(client, f"{url}/eligibility", gridworker)["may_apply"]
    for method, target, body in (
            ("patch", f"{API}/agreements/{draft['id']}", {"copies": 5}),
            ("post", f"{API}/agreements/{draft['id']}/terms", agreement_body(other)["terms"][0]),
            ("get", f"{API}/agreements/{draft['id']}/preview", None),
            ("post", f"{url}/signatures", {"signer": "recorder",
                                           "signed_on": today().isoformat()}),
            ("post", f"{url}/application", {}),
            ("post", f"{url}/confirmations", {"court_name": "东湖区人民法院",
                                              "filed_on": today().isoformat()})):
        _problem(_call(client, method, target, gridworker, body), 403)
    assert db.session.scalar(select(func.count()).select_from(JudicialConfirmation)) == 0


def test_another_communitys_mediator_finds_none_of_it(client, mediator, outsider, scans):
    """Every agreement operation answers 404 to a token of another community, as if nothing
    were there, and changes nothing."""
    case, agreement = _in_force(client, mediator)
    number = case["number"]
    url = f"{API}/agreements/{agreement['id']}"
    post_ok(client, f"{url}/signed_copy", mediator, {
        "file": base64.b64encode(SCAN).decode(), "completed_on": today().isoformat()})
    confirmation = post_ok(client, f"{url}/confirmations", mediator, {
        "court_name": "东湖区人民法院", "filed_on": today().isoformat()}, 201)
    other = case_in_mediation(client, mediator, title="邻居噪音纠纷", category="noise")
    draft = post_ok(client, f"{API}/cases/{other['number']}/agreements", mediator,
                    agreement_body(other), 201)
    durl = f"{API}/agreements/{draft['id']}"
    term, instalment_term = draft["terms"][0], agreement["terms"][0]
    day = today().isoformat()
    calls = [
        ("get", url, None), ("get", f"{url}/problems", None), ("get", f"{url}/eligibility", None),
        ("get", f"{url}/signed_copy", None), ("get", f"{durl}/preview", None),
        ("get", f"{API}/agreements/terms/{term['id']}", None),
        ("get", f"{API}/agreements/confirmations/{confirmation['id']}", None),
        ("get", f"{API}/cases/{number}/confirmations", None),
        ("patch", durl, {"copies": 5}),
        ("post", f"{durl}/terms", agreement_body(other)["terms"][0]),
        ("put", f"{API}/agreements/terms/{term['id']}", agreement_body(other)["terms"][0]),
        ("delete", f"{API}/agreements/terms/{term['id']}", None),
        ("post", f"{API}/agreements/terms/{term['id']}/move", {"direction": "down"}),
        ("post", f"{durl}/parties/{other['parties'][0]['id']}", {"occupation": "教师"}),
        ("post", f"{durl}/discard", None), ("post", f"{url}/correct", None),
        ("post", f"{url}/signatures", {"signer": "recorder", "signed_on": day}),
        ("post", f"{url}/signed_copy", {"file": base64.b64encode(SCAN).decode(),
                                        "completed_on": day}),
        ("post", f"{API}/agreements/terms/{instalment_term['id']}/performed",
         {"performed_on": day}),
        ("post", f"{url}/application", {}),
        ("post", f"{url}/confirmations", {"court_name": "东湖区人民法院", "filed_on": day}),
        ("post", f"{API}/agreements/confirmations/{confirmation['id']}/ruling",
         {"result": "dismissed", "ruled_on": day}),
    ]
    before = (_get(client, url, mediator), _get(client, durl, mediator))
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    for method, target, body in calls:
        _problem(_call(client, method, target, outsider, body), 404)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits
    assert (_get(client, url, mediator), _get(client, durl, mediator)) == before
    # An instalment and a party of another community's draft are as unknown.
    instalment_case = case_in_mediation(client, mediator)
    body = agreement_body(instalment_case)
    body["terms"][0]["instalments"] = [{"due_on": body["terms"][0]["due_on"],
                                        "amount": "3800"}]
    with_instalment = post_ok(client, f"{API}/cases/{instalment_case['number']}/agreements",
                              mediator, body, 201)
    instalment = with_instalment["terms"][0]["instalments"][0]["id"]
    _problem(client.post(f"{API}/agreements/instalments/{instalment}/paid",
                         json={"paid_on": day}, headers=outsider), 404)
    assert db.session.get(Party, other["parties"][0]["id"]).occupation == "职工"


# ---- the same trace as the pages ---------------------------------------------------------------

def _marks() -> tuple[int, int]:
    return (db.session.scalar(select(func.max(AuditEntry.id))),
            db.session.scalar(select(func.max(CaseEvent.id))))


def _trace(number: str, since: tuple[int, int]) -> tuple[list[tuple[str, str]], list[str]]:
    """The case's timeline entries and audit actions since ``_marks()``, with the case's
    and agreement's numbers taken out."""
    case = db.session.scalar(select(Case).where(Case.number == number))
    numbers = {a.number for a in db.session.scalars(select(Agreement).where(
        Agreement.case_id == case.id)) if a.number}

    def plain(text: str) -> str:
        for value in numbers | {number}:
            text = text.replace(value, "#")
        return text

    events = [(e.kind.value, plain(e.reason or "")) for e in case.events if e.id > since[1]]
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_id == number, AuditEntry.id > since[0]).order_by(AuditEntry.id)).all()
    return events, list(actions)


def test_the_api_leaves_the_trace_the_pages_leave(app, client, demo_city):
    """The same steps on two like cases, one through the agreement's page and one through
    the API, give the same timeline, the same audit entries and the same effective date."""
    token = bearer(cli_token(demo_city, "mediator"))
    page = Auth(app.test_client())
    assert page.login("mediator").status_code == 302
    day = today().isoformat()
    traces, effective = [], []
    for through_pages in (True, False):
        case = case_in_mediation(client, token, parties=[
            person("applicant", "王建国"), {"role": "respondent", "name": "李卫东",
                                            "phone": "13905467788"}])
        number = case["number"]
        wang, li = (p["id"] for p in case["parties"])
        draft = post_ok(client, f"{API}/cases/{number}/agreements", token,
                        agreement_body(case), 201)
        since = _marks()
        aid, url = draft["id"], f"/agreements/{draft['id']}"
        details = {"gender": "male", "ethnicity": "汉族", "birth_date": "1982-11-20",
                   "occupation": "个体经营", "address": "东营市东湖区文苑小区3号楼402室"}
        term = {"content": "李卫东向王建国赔礼道歉", "obligor_ids": [li], "obligee_ids": [wang],
                "on_the_spot": True}
        if through_pages:
            assert page.post(f"{url}/parties/{li}", {f"p{li}-{k}": v for k, v in
                                                     details.items()},
                             form_url=url).status_code == 302
            assert page.post(f"{url}/terms/new", {**term, "on_the_spot": "y"},
                             form_url=f"{url}/terms/new").status_code == 302
            new = db.session.get(Agreement, aid).terms[-1].id
            assert page.post(f"/agreements/terms/{new}/up", form_url=url).status_code == 302
            assert page.post(f"{url}/issue", {"version": ""}, form_url=url).status_code == 302
            for signer in (f"party:{wang}", f"party:{li}", "mediator", "seal"):
                assert page.post(f"{url}/signatures", {"signer": signer, "signed_on": day,
                                                       "method": "signature"},
                                 form_url=url).status_code == 302
            first = db.session.get(Agreement, aid).terms[0].id
            assert page.post(f"/agreements/terms/{first}/performed", {"performed_on": day},
                             form_url=url).status_code == 302
            assert page.post(f"{url}/application.pdf", form_url=url).status_code == 200
            court = db.session.scalar(select(Court).where(Court.name == "东湖区人民法院"))
            assert page.post(f"{url}/confirmation", {"court_id": court.id, "filed_on": day},
                             form_url=url).status_code == 302
            confirmation = db.session.get(Agreement, aid).confirmations[0].id
            assert page.post(f"/agreements/confirmations/{confirmation}", {
                "result": "confirmed", "ruling_number": "（2026）鲁0599民特12号",
                "ruled_on": day}, form_url=url).status_code == 302
        else:
            api = f"{API}/agreements/{aid}"
            post_ok(client, f"{api}/parties/{li}", token, details)
            new = post_ok(client, f"{api}/terms", token, term, 201)["id"]
            post_ok(client, f"{API}/agreements/terms/{new}/move", token, {"direction": "up"})
            issued = post_ok(client, f"{api}/issue", token)
            _sign_all(client, token, issued)
            post_ok(client, f"{API}/agreements/terms/{issued['terms'][0]['id']}/performed",
                    token, {"performed_on": day})
            assert client.post(f"{api}/application", json={}, headers=token).status_code == 200
            court = _get(client, f"{api}/eligibility", token)["competent_courts"][0]
            confirmation = post_ok(client, f"{api}/confirmations", token, {
                "court_id": court["court_id"], "filed_on": day}, 201)
            post_ok(client, f"{API}/agreements/confirmations/{confirmation['id']}/ruling",
                    token, {"result": "confirmed", "ruling_number": "（2026）鲁0599民特12号",
                            "ruled_on": day})
        traces.append(_trace(number, since))
        effective.append(db.session.get(Agreement, aid).effective_on)
    (page_events, page_actions), (api_events, api_actions) = traces
    assert api_events == page_events and len(page_events) >= 9
    assert [a for a in api_actions if a != "api.call"] == page_actions
    assert "case.agreement.application.read" in page_actions
    assert effective == [today(), today()]
