"""Foreign parties and residents of Hong Kong, Macao and Taiwan: their nationality, a
passport's issuing country and where they live read right in the agreement, on the case
page, through the party form and through the API."""

import re
import subprocess
from datetime import date

import pytest
from agreements_helpers import VERIFY_URL, agreement_city, full_person, ready_draft, settled_case
from api_helpers import API, bearer, case_body, cli_token, person, post_ok
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from cases_helpers import applicant, area, make_case, respondent, user
from sqlalchemy import select

from mediation.agreements import operations as agreement_ops
from mediation.agreements import rules as agreement_rules
from mediation.agreements.documents import party_lines
from mediation.cases import operations
from mediation.cases.models import Case, Gender, HomeRegion, Party, PartyKind
from mediation.core.errors import OperationError
from mediation.core.identity import id_check_char
from mediation.extensions import db

ISSUE_DAY = date(2026, 9, 1)
PASSPORT = "E12345678"
HK_PERMIT = "H87654321"
# A Hong Kong resident's residence permit (prefix 81), male, born 1 January 1990.
HK_RESIDENCE_17 = "81000019900101001"
HK_RESIDENCE = HK_RESIDENCE_17 + id_check_char(HK_RESIDENCE_17)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pdf_text(tmp_path, data: bytes) -> str:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(data)
    return _flat(subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                                capture_output=True, text=True).stdout)


def _block(text: str, start: str, end: str) -> str:
    """One party's block: from its heading to the next one."""
    found = re.search(re.escape(start) + "(.*?)" + re.escape(end), text)
    assert found, text
    return found.group(1)


# ---- the agreement ----------------------------------------------------------------------

@pytest.fixture
def city(app, monkeypatch):
    monkeypatch.setattr(agreement_ops, "today", lambda: ISSUE_DAY)
    return agreement_city()


def test_a_us_passport_holder_and_a_hong_kong_resident_in_the_agreement(city, tmp_path):
    case = settled_case(city, parties=[
        full_person(applicant, "John Smith", ethnicity=None, nationality="美国",
                    birth_date=date(1980, 5, 1), occupation="教师", id_type="passport",
                    id_number=PASSPORT),
        full_person(respondent, "陈大文", ethnicity=None, id_type="hk_macao_permit",
                    id_number=HK_PERMIT, birth_date=date(1970, 2, 3),
                    phone="13905467788", address="东营市东湖区东苑小区3号楼402室")])
    agreement = ready_draft(city, case)
    # No ethnicity is asked of either: the draft issues.
    agreement_ops.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.commit()
    text = _pdf_text(tmp_path, agreement.pdf)

    smith = _block(text, "当事人甲（申请人）：", "当事人乙")
    assert smith.startswith("JohnSmith，男，美国国籍，1980年5月1日出生，职业：教师，")
    assert "护照号码（美国签发）：*****5678。" in smith
    assert "族" not in smith
    assert PASSPORT not in text  # the agreement keeps the number masked

    chan = _block(text, "当事人乙（被申请人）：", "纠纷主要事实")
    assert chan.startswith("陈大文，男，香港特别行政区居民，1970年2月3日出生，")
    assert "港澳居民来往内地通行证号码：*****4321。" in chan
    assert "族" not in chan


@pytest.mark.parametrize(("id_type", "number", "fields", "expected"), [
    # A Macao resident's travel permit starts with M.
    ("hk_macao_permit", "M12345678", {}, "何伟，男，澳门特别行政区居民，"),
    ("taiwan_permit", "12345678", {}, "何伟，男，台湾地区居民，"),
    # The residence permit tells the region by its prefix; an ethnicity given is kept.
    ("residence_permit", HK_RESIDENCE, {"ethnicity": "汉族"},
     "何伟，男，汉族，香港特别行政区居民，1990年1月1日出生，"),
    # A Chinese citizen's passport: a citizen, with an ethnicity.
    ("passport", "E99990000", {"nationality": "中华人民共和国", "ethnicity": "汉族"},
     "何伟，男，汉族，"),
    ("foreign_permanent", "ABC123456789012", {"nationality": "加拿大"},
     "何伟，男，加拿大国籍，"),
    ("passport", "T1234567", {"nationality": "无国籍", "id_issuing_country": "德国"},
     "何伟，男，无国籍，"),
])
def test_each_document_reads_as_its_holder(app, id_type, number, fields, expected):
    party = Party()
    data = applicant("何伟", gender=Gender.MALE, id_type=id_type, id_number=number, **fields)
    operations._apply_party(party, data)
    lines = party_lines(party)
    assert lines.startswith(expected), lines
    if party.nationality not in (None, "中国"):
        assert "族" not in lines
    if id_type == "passport":
        issuer = fields.get("id_issuing_country", "中国" if "中华" in fields["nationality"]
                            else fields["nationality"])
        assert f"护照号码（{issuer}签发）：" in lines


def test_a_mainland_block_is_unchanged(app):
    party = Party()
    operations._apply_party(party, applicant("王建国", gender=Gender.MALE, ethnicity="回",
                                             address="东苑小区"))
    assert party_lines(party) == "王建国，男，回族，住址：东苑小区。"
    assert party.nationality is None and party.home_region is None


def test_the_agreement_asks_a_citizens_ethnicity_not_a_foreigners(app):
    details = {"gender": Gender.MALE, "birth_date": date(1980, 5, 1), "occupation": "教师",
               "phone": "13805461234", "address": "东苑小区"}
    citizen = Party(kind=PartyKind.PERSON, name="王建国", **details)
    foreigner = Party(kind=PartyKind.PERSON, name="John Smith", nationality="美国", **details)
    resident = Party(kind=PartyKind.PERSON, name="陈大文", home_region=HomeRegion.HONG_KONG,
                     **details)
    assert agreement_rules.missing_details(citizen) == ["民族"]
    assert agreement_rules.missing_details(foreigner) == []
    assert agreement_rules.missing_details(resident) == []


# ---- the rules ---------------------------------------------------------------------------

@pytest.mark.parametrize(("id_type", "nationality", "issuing", "ethnicity", "field"), [
    ("passport", None, None, None, "nationality"),
    ("passport", "  ", "美国", None, "nationality"),
    ("foreign_permanent", None, None, None, "nationality"),
    ("foreign_permanent", "中国", None, None, "nationality"),
    ("resident_id", "美国", None, None, "nationality"),
    ("residence_permit", "日本", None, None, "nationality"),
    ("taiwan_permit", "美国", None, None, "nationality"),
    (None, "香港", None, None, "nationality"),
    (None, "中国台湾", None, None, "nationality"),
    ("passport", "美国", None, "汉族", "ethnicity"),
    (None, "韩国", None, "朝鲜族", "ethnicity"),
    ("passport", "无国籍", None, None, "id_issuing_country"),
])
def test_what_the_rules_refuse(app, id_type, nationality, issuing, ethnicity, field):
    with pytest.raises(OperationError) as refused:
        operations.check_nationality(id_type, nationality, issuing, ethnicity)
    assert refused.value.field == field


@pytest.mark.parametrize(("id_type", "nationality", "issuing", "ethnicity", "recorded"), [
    ("passport", " 美国国籍 ", None, None, ("美国", "美国")),
    ("passport", "美国", "英国", None, ("美国", "英国")),
    ("passport", "中华人民共和国", None, "汉族", ("中国", "中国")),
    ("foreign_permanent", "加拿大", "加拿大", None, ("加拿大", None)),  # passports only
    ("hk_macao_permit", "英国", None, None, ("英国", None)),  # non-Chinese HK residents
    ("resident_id", None, None, "汉族", (None, None)),
    (None, "无", None, None, ("无国籍", None)),
])
def test_what_the_rules_record(app, id_type, nationality, issuing, ethnicity, recorded):
    assert operations.check_nationality(id_type, nationality, issuing, ethnicity) == recorded


# ---- the pages ---------------------------------------------------------------------------

def _case_with_a_party(**fields) -> Case:
    case = make_case(user("admin"), grid=area("370599001001-01"),
                     parties=[applicant("周晓梅", **fields)])
    db.session.commit()
    return case


def _party_form(case: Case, **fields) -> dict:
    return {"version": str(case.version), "role": "respondent", "party-kind": "person",
            "party-name": "John Smith", "party-gender": "male",
            "party-id_type": "passport", "party-id_number": PASSPORT,
            "party-phone": "13900001111", "party-ethnicity": "", **fields}


def _error_of(html: str, field: str) -> str:
    found = re.search(rf'id="party-{field}-error"[^>]*>(.*?)</ul>', html, re.S)
    assert found, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_the_form_refuses_a_passport_without_nationality(demo_city, auth):
    case = _case_with_a_party()
    auth.login("gridworker")
    url = f"/cases/{case.number}/parties/new"
    page = auth.client.get(url).get_data(as_text=True)
    assert 'name="party-nationality"' in page and 'name="party-id_issuing_country"' in page
    assert '<datalist id="party-nationality-options">' in page

    response = auth.post(url, _party_form(case, **{"party-nationality": ""}))
    assert response.status_code == 200
    assert _error_of(response.get_data(as_text=True), "nationality") == \
        "请填写护照持有人的国籍（如：美国；中国护照填写“中国”）。"
    # Ethnicity, the form's default 汉族, is for Chinese citizens only.
    response = auth.post(url, _party_form(case, **{"party-nationality": "美国",
                                                   "party-ethnicity": "汉族"}))
    assert response.status_code == 200
    assert "民族仅适用于中国公民" in _error_of(response.get_data(as_text=True), "ethnicity")
    db.session.expire_all()
    assert len(db.session.get(Case, case.id).parties) == 1  # nothing saved

    response = auth.post(url, _party_form(case, **{"party-nationality": "美国"}))
    assert response.status_code == 302
    db.session.expire_all()
    smith = db.session.scalar(select(Party).where(Party.name == "John Smith"))
    assert (smith.nationality, smith.id_issuing_country, smith.ethnicity) == \
        ("美国", "美国", None)

    # The case page shows the nationality where a citizen's ethnicity goes.
    detail = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    row = re.search(r"John Smith.*?</tr>", detail, re.S).group(0)
    assert "美国国籍" in row and "汉族" not in row


def test_editing_keeps_the_passport_and_asks_its_nationality_again(demo_city, auth):
    case = _case_with_a_party()
    operations.add_party(user("admin"), case, respondent(
        "John Smith", nationality="美国", id_type="passport", id_number=PASSPORT,
        id_issuing_country="英国"))
    db.session.commit()
    smith = case.parties[-1]
    auth.login("gridworker")
    url = f"/cases/{case.number}/parties/{smith.id}/edit"
    page = auth.client.get(url).get_data(as_text=True)
    assert re.search(r'name="party-nationality"[^>]*value="美国"', page)
    assert re.search(r'name="party-id_issuing_country"[^>]*value="英国"', page)
    # The number is not retyped: the recorded passport stays, and still needs a nationality.
    response = auth.post(url, _party_form(case, **{"party-id_number": "",
                                                   "party-nationality": "",
                                                   "party-id_issuing_country": ""}))
    assert response.status_code == 200
    assert "请填写护照持有人的国籍" in _error_of(response.get_data(as_text=True), "nationality")
    response = auth.post(url, _party_form(case, **{"party-id_number": "",
                                                   "party-nationality": "英国",
                                                   "party-id_issuing_country": ""}))
    assert response.status_code == 302
    db.session.expire_all()
    smith = db.session.get(Party, smith.id)
    assert (smith.id_type, smith.id_number_masked, smith.nationality,
            smith.id_issuing_country) == ("passport", "*****5678", "英国", "英国")


# ---- the API -----------------------------------------------------------------------------

@pytest.fixture
def mediator(demo_city):
    return bearer(cli_token(demo_city, "mediator"))


def test_the_api_round_trips_nationality_and_issuing_country(client, mediator):
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    url = f"{API}/cases/{number}/parties"
    smith = post_ok(client, url, mediator, person(
        "third_party", "John Smith", ethnicity=None, nationality="美国", id_type="passport",
        id_number=PASSPORT, id_issuing_country="英国"), 201)
    assert (smith["nationality"], smith["id_issuing_country"], smith["id_number_masked"],
            smith["home_region"]) == ("美国", "英国", "*****5678", None)
    chan = post_ok(client, url, mediator, person(
        "third_party", "陈大文", ethnicity=None, id_type="hk_macao_permit",
        id_number=HK_PERMIT), 201)
    assert (chan["nationality"], chan["id_issuing_country"], chan["home_region"]) == \
        (None, None, "hong_kong")
    listed = {p["name"]: p for p in client.get(url, headers=mediator).get_json()["items"]}
    assert listed["John Smith"]["nationality"] == "美国"
    assert listed["John Smith"]["id_issuing_country"] == "英国"
    assert listed["王建国"]["nationality"] is None  # a mainland citizen

    # The same rules as the form.
    no_nationality = person("third_party", "Jane Doe", ethnicity=None, id_type="passport",
                            id_number="X7654321")
    assert _fields(_problem(client.post(url, json=no_nationality, headers=mediator),
                            422)) == {"nationality"}
    with_ethnicity = person("third_party", "Jane Doe", ethnicity="汉族", nationality="美国")
    assert _fields(_problem(client.post(url, json=with_ethnicity, headers=mediator),
                            422)) == {"ethnicity"}
    too_long = person("third_party", "Jane Doe", ethnicity=None, nationality="美" * 41)
    assert "nationality" in _fields(_problem(client.post(url, json=too_long,
                                                         headers=mediator), 422))
