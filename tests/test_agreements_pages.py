"""Agreements through the web pages as the demo city's people use them: the builder, issuing
(and a double submit), signatures, the application PDF, who may do what, and the public
verification page."""

import hashlib
import html
import io
import re
import subprocess
from datetime import date, timedelta

import pytest
from agreements_helpers import full_person
from cases_helpers import applicant, area, audit_entries, make_case, respondent, user, walk_to
from conftest import DEMO_PASSWORD, Auth
from sqlalchemy import func, select

from mediation.agreements import operations, rules
from mediation.agreements.models import Agreement, AgreementCounter
from mediation.areas.models import Committee, Court
from mediation.cases import operations as case_ops
from mediation.cases.models import Case, Gender
from mediation.cases.rules import today
from mediation.cases.states import CaseState
from mediation.core import calendar
from mediation.extensions import db
from mediation.users import operations as user_ops
from mediation.users.roles import Role

S = CaseState
GRID = "370599001001-01"  # 文苑社区第1网格: the demo mediator's and grid worker's
NARRATIVE = "3号楼502室卫生间漏水，402室天花板受损，双方就维修费用协商未果。"
PHONES = ("13805461234", "13905467788")
VERIFY_BASE = "http://localhost/v/{code}"


# ---- helpers ---------------------------------------------------------------------------------

def _flashes(page: str, category: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(
        rf'<p class="flash flash--{category}"[^>]*>(.*?)</p>', page, re.S)]


def _field_errors(page: str, field_id: str) -> list[str]:
    block = re.search(rf'<ul class="errors" id="{field_id}-error"[^>]*>(.*?)</ul>', page, re.S)
    return [html.unescape(m) for m in re.findall(r"<li>(.*?)</li>", block.group(1))] \
        if block else []


def _hidden_version(page: str) -> str:
    match = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    assert match, "no version on the page"
    return match.group(1)


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode("utf-8")
    return re.sub(r"\s+", "", out)


def _english(auth: Auth) -> None:
    auth.post("/language", {"lang": "en", "next": "/"}, form_url="/login")


def _agreement(agreement_id: int) -> Agreement:
    db.session.expire_all()
    return db.session.get(Agreement, agreement_id)


def _numbers_issued() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement)
                             .where(Agreement.number.is_not(None)))


def _login(app, username: str) -> Auth:
    auth = Auth(app.test_client())
    assert auth.login(username).status_code == 302
    return auth


@pytest.fixture
def case(demo_city) -> Case:
    """A dispute in 文苑社区 under mediation by the demo mediator, with complete parties."""
    mediator = user("mediator")
    found = make_case(mediator, grid=area(GRID), narrative=NARRATIVE, parties=[
        full_person(applicant, "王建国", phone=PHONES[0]),
        full_person(respondent, "李卫东", gender=Gender.FEMALE, phone=PHONES[1],
                    address="东营市东湖区东苑小区3号楼402室")])
    walk_to(found, S.IN_MEDIATION, mediator)
    found.handler = mediator
    if db.session.scalar(select(Court)) is None:  # the demo city's district court
        db.session.add(Court(name="东湖区人民法院", area=area("370599")))
    db.session.commit()
    return found


def _ready_draft(case: Case) -> Agreement:
    """Through the operations: a draft with every element, for the tests after the builder."""
    mediator = user("mediator")
    agreement = operations.start_draft(mediator, case)
    first, second = (e.party for e in agreement.parties)
    operations.update_draft(mediator, agreement, operations.DraftInput(
        facts=NARRATIVE, disputed_matters="漏水损失的赔偿数额及维修责任。", copies=3,
        mediator=mediator, recorder_name="刘晓燕", inviting_court=None, concerns_status=False,
        determines_ownership=False,
        responsibilities={first.id: "无过错。", second.id: "负全部责任。"}))
    operations.save_term(mediator, agreement, None, operations.TermInput(
        content="李卫东赔偿王建国天花板修复费用", obligor_id=second.id, obligee_id=first.id,
        amount="3800", method="银行转账", due_on=today() + timedelta(days=30)))
    db.session.commit()
    return agreement


def _issued(case: Case) -> Agreement:
    agreement = _ready_draft(case)
    operations.issue(user("mediator"), agreement, verify_url=VERIFY_BASE)
    db.session.commit()
    return agreement


# ---- the builder, issuing and the issued PDF -------------------------------------------------

def test_a_mediator_builds_previews_and_issues_an_agreement(app, case):
    mediator = _login(app, "mediator")
    client = mediator.client
    case_page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert f'action="/cases/{case.number}/agreements"' in case_page

    response = mediator.post(f"/cases/{case.number}/agreements",
                             form_url=f"/cases/{case.number}")
    assert response.status_code == 302
    agreement_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    url = f"/agreements/{agreement_id}"
    agreement = _agreement(agreement_id)
    assert agreement.is_draft and agreement.case_id == case.id
    first, second = (e.party_id for e in agreement.parties)

    page = client.get(url).get_data(as_text=True)
    assert "王建国" in page and "李卫东" in page
    response = mediator.post(url, {
        "version": _hidden_version(page), "facts": NARRATIVE,
        "disputed_matters": "漏水损失的赔偿数额及维修责任。", "copies": "3",
        "mediator_id": str(user("mediator").id), "recorder_name": "刘晓燕",
        "inviting_court_id": "", f"responsibility_{first}": "对漏水造成的损失无过错。",
        f"responsibility_{second}": "卫生间防水层老化未及时维修，对损失负全部责任。"})
    assert response.status_code == 302
    agreement = _agreement(agreement_id)
    assert agreement.disputed_matters == "漏水损失的赔偿数额及维修责任。"
    assert agreement.recorder_name == "刘晓燕"
    assert [e.responsibility for e in agreement.parties][1].startswith("卫生间防水层")

    term = {"content": "李卫东赔偿王建国天花板修复费用", "obligor_ids": str(second),
            "obligee_ids": str(first), "amount": "abc", "method": "银行转账",
            "place": "文苑社区党群服务中心", "due_on": "2026-12-31", "instalments": ""}
    response = mediator.post(f"{url}/terms/new", term)
    assert response.status_code == 422
    form_page = response.get_data(as_text=True)
    assert '<html lang="zh-Hans-CN">' in form_page  # Chinese by default
    errors = _field_errors(form_page, "amount")
    assert len(errors) == 1 and "abc" in errors[0]  # names what was typed
    assert _agreement(agreement_id).terms == []
    response = mediator.post(f"{url}/terms/new", {**term, "amount": "3,800"})
    assert response.status_code == 302
    response = mediator.post(f"{url}/terms/new", {
        **term, "content": "李卫东于十五日内修复卫生间防水层", "obligee_ids": [], "amount": "",
        "method": "自行委托施工", "place": "东苑小区3号楼502室", "due_on": "2026-12-15"})
    assert response.status_code == 302
    agreement = _agreement(agreement_id)
    assert [(t.content[:5], t.amount_fen) for t in agreement.terms] == \
        [("李卫东赔偿", 380000), ("李卫东于十", None)]
    page = client.get(url).get_data(as_text=True)
    assert "人民币叁仟捌佰元整" in page

    preview = client.get(f"{url}/preview.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    preview_text = _pdf_text(preview.data)
    assert "草稿" in preview_text and "人民币叁仟捌佰元整" in preview_text
    assert _agreement(agreement_id).is_draft  # a preview issues nothing

    issue_form = {"version": _hidden_version(page)}
    response = mediator.post(f"{url}/issue", issue_form)
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    agreement = _agreement(agreement_id)
    number = agreement.number
    assert re.fullmatch(rf"（{today().year}）文苑社区人调字第1号", number)
    page = client.get(url).get_data(as_text=True)
    assert number in page and agreement.sha256 in page
    assert any(number in message for message in _flashes(page, "success"))
    assert _agreement(agreement_id).case.state is S.SETTLED

    # The same form sent again (a double click, a resubmitted page): refused, said, once.
    response = mediator.post(f"{url}/issue", issue_form, follow_redirects=True)
    page = response.get_data(as_text=True)
    errors = _flashes(page, "error")
    assert len(errors) == 1 and number in errors[0]
    assert _numbers_issued() == 1
    assert db.session.scalar(select(AgreementCounter.last)) == 1
    agreement = _agreement(agreement_id)
    assert (agreement.number, agreement.sha256) == (number, hashlib.sha256(
        agreement.pdf).hexdigest())

    download = client.get(f"{url}/pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == agreement.pdf
    assert "attachment" in download.headers["Content-Disposition"]
    assert len(audit_entries("case.agreement.pdf.read", agreement.case)) == 1
    assert number in _pdf_text(download.data)
    # The case page lists it.
    assert number in client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_deleting_a_term_or_discarding_a_draft_takes_a_confirm_step(app, case):
    """The buttons open a question first (details: no JavaScript); a POST that skipped it
    deletes nothing and says so."""
    agreement = _ready_draft(case)
    term = agreement.terms[0]
    mediator = _login(app, "mediator")
    url = f"/agreements/{agreement.id}"
    page = mediator.client.get(url).get_data(as_text=True)
    assert '<details class="confirm-step">' in page and "删除第 1 条？此操作不可撤销。" in page

    skipped = mediator.post(f"/agreements/terms/{term.id}/delete", {}, form_url=url,
                            follow_redirects=True).get_data(as_text=True)
    assert _flashes(skipped, "error") == ["请先确认删除该条款：未删除任何内容。"]
    assert len(_agreement(agreement.id).terms) == 1
    done = mediator.post(f"/agreements/terms/{term.id}/delete", {"confirmed": "yes"},
                         form_url=url, follow_redirects=True).get_data(as_text=True)
    assert _flashes(done, "success") == ["已删除该条款。"]
    assert _agreement(agreement.id).terms == []

    mediator.post(f"{url}/discard", {}, form_url=url)
    assert _agreement(agreement.id) is not None
    response = mediator.post(f"{url}/discard", {"confirmed": "yes"}, form_url=url)
    assert response.headers["Location"] == f"/cases/{case.number}"
    assert _agreement(agreement.id) is None


def test_issue_messages_in_english(app, case):
    mediator = _login(app, "mediator")
    _english(mediator)
    agreement = _ready_draft(case)
    url = f"/agreements/{agreement.id}"
    form = {"version": _hidden_version(mediator.client.get(url).get_data(as_text=True))}
    assert mediator.post(f"{url}/issue", form).status_code == 302
    page = mediator.post(f"{url}/issue", form, follow_redirects=True).get_data(as_text=True)
    assert any("already been issued" in m for m in _flashes(page, "error"))
    page = mediator.post(f"{url}/terms/new", {"content": "再加一条"},
                         form_url=url, follow_redirects=True).get_data(as_text=True)
    assert any("can no longer change" in m for m in _flashes(page, "error"))
    assert len(_agreement(agreement.id).terms) == 1


def _application_forms(page: str) -> list[str]:
    """Where the page's application buttons post to (no link: a GET must not reveal)."""
    assert not re.search(r'href="[^"]*/application\.pdf', page)
    return [html.unescape(a) for a in
            re.findall(r'<form method="post" action="([^"]*/application\.pdf[^"]*)"', page)]


def test_signatures_and_the_application_through_the_pages(app, case):
    agreement = _issued(case)
    url = f"/agreements/{agreement.id}"
    mediator = _login(app, "mediator")
    first, second = (f"party:{e.party_id}" for e in agreement.parties)
    day = agreement.issued_on

    response = mediator.post(f"{url}/signatures", {
        "signer": first, "signed_on": (day - timedelta(days=1)).isoformat(),
        "method": "signature"}, form_url=url)
    assert response.status_code == 422
    errors = _field_errors(response.get_data(as_text=True), "signed_on")
    assert len(errors) == 1 and day.isoformat() in errors[0]
    assert _agreement(agreement.id).parties[0].signed_on is None

    for signer, method in [(first, "signature"), (second, "fingerprint"),
                           ("mediator", "signature"), ("seal", "signature")]:
        response = mediator.post(f"{url}/signatures", {
            "signer": signer, "signed_on": day.isoformat(), "method": method}, form_url=url)
        assert response.status_code == 302, signer
    agreement = _agreement(agreement.id)
    assert agreement.effective_on == day and agreement.in_force
    deadline = rules.confirmation_deadline(day)
    assert deadline.isoformat() in mediator.client.get(url).get_data(as_text=True)

    # The parties' domiciles are not on record: the district court is the one to write to,
    # by default and through the page's button (a POST: it reveals the ID numbers).
    page = mediator.client.get(url).get_data(as_text=True)
    links = _application_forms(page)
    assert links, "no application button on the page"
    for link in [f"{url}/application.pdf", links[0]]:
        response = mediator.post(link, form_url=url)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = _pdf_text(response.data)
        for expected in ["司法确认申请书", "此致东湖区人民法院", agreement.number,
                         "没有恶意串通、规避法律", rules.chinese_date(deadline)]:
            assert expected in text, expected


def test_the_application_is_in_chinese_whatever_the_interface_language(app, case):
    """A court reads Chinese: the court's name after 此致 is not the English interface's."""
    agreement = _issued(case)
    account = user("mediator")
    for signer in [f"party:{e.party_id}" for e in agreement.parties] + ["mediator", "seal"]:
        operations.record_signature(account, agreement, signer, agreement.issued_on)
    db.session.commit()
    mediator = _login(app, "mediator")
    _english(mediator)
    url = f"/agreements/{agreement.id}"
    page = mediator.client.get(url).get_data(as_text=True)
    assert "The basic court where 李卫东 is domiciled" in page  # no court on record for it
    links = _application_forms(page)
    texts = [_pdf_text(mediator.post(link, form_url=url).data) for link in links]
    assert len(links) == len(texts) > 1
    assert any("李卫东住所地的基层人民法院" in t.replace("\n", "") for t in texts)
    assert not any("basic court" in t or "domiciled" in t for t in texts)


@pytest.mark.parametrize("marked", [False, True], ids=["provisional", "marked-complete"])
def test_a_deadline_in_a_provisional_year_says_so(app, case, monkeypatch, marked):
    """DOMAIN.md: a year without the official schedule counts its statutory holidays only,
    and the page says so beside the 30-day deadline — until an administrator has entered
    that year's schedule and marked it complete."""
    monkeypatch.setattr(calendar, "library_covers", lambda year: False)
    agreement = _issued(case)
    deadline = rules.confirmation_deadline(agreement.issued_on)
    if marked:  # the State Council's schedule, entered by an administrator and marked
        for year in {agreement.issued_on.year, deadline.year}:
            db.session.add(calendar.CalendarDay(day=date(year, 1, 1), is_workday=False,
                                                name="元旦"))
            db.session.add(calendar.CalendarYear(year=year))
    account = user("mediator")
    for signer in [f"party:{e.party_id}" for e in agreement.parties] + ["mediator", "seal"]:
        operations.record_signature(account, agreement, signer, agreement.issued_on)
    db.session.commit()
    calendar.forget_confirmed_years()
    mediator = _login(app, "mediator")
    _english(mediator)
    page = mediator.client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert rules.confirmation_deadline(agreement.issued_on).isoformat() in page
    assert ("Provisional: the official holiday schedule for" in page) is not marked


def test_the_scanned_signed_copy_through_the_page(app, case, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    agreement = _issued(case)
    url = f"/agreements/{agreement.id}"
    mediator = _login(app, "mediator")
    scan = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
    response = mediator.post(f"{url}/signed-copy", {
        "file": (io.BytesIO(scan), "签字版.pdf"),
        "completed_on": agreement.issued_on.isoformat()}, form_url=url,
        content_type="multipart/form-data")
    assert response.status_code == 302
    agreement = _agreement(agreement.id)
    assert agreement.effective_on == agreement.issued_on
    assert agreement.signed_copy.sha256 == hashlib.sha256(scan).hexdigest()


def test_aftercare_goes_on_after_the_case_is_closed(app, case):
    """Performance is supervised (PML 31) and confirmation applied for after closure; the
    agreement itself no longer changes."""
    agreement = _issued(case)
    mediator_account = user("mediator")
    for signer in [f"party:{e.party_id}" for e in agreement.parties] + ["mediator", "seal"]:
        operations.record_signature(mediator_account, agreement, signer, agreement.issued_on)
    case_ops.close_case(mediator_account, _agreement(agreement.id).case, "已结案")
    db.session.commit()
    assert _agreement(agreement.id).case.state is S.CLOSED

    url = f"/agreements/{agreement.id}"
    mediator = _login(app, "mediator")
    page = mediator.client.get(url).get_data(as_text=True)
    term = _agreement(agreement.id).terms[0]
    assert f"/agreements/terms/{term.id}/performed" in page
    assert f'action="{url}/correct"' not in page
    response = mediator.post(f"/agreements/terms/{term.id}/performed",
                             {"performed_on": today().isoformat()}, form_url=url)
    assert response.status_code == 302
    assert _agreement(agreement.id).terms[0].performed_on == today()

    application = mediator.post(f"{url}/application.pdf", form_url=url)
    assert application.status_code == 200 and application.mimetype == "application/pdf"
    court = db.session.scalar(select(Court))
    response = mediator.post(f"{url}/confirmation", {
        "court_id": str(court.id), "filed_on": today().isoformat()}, form_url=url)
    assert response.status_code == 302
    assert [c.court_name for c in _agreement(agreement.id).confirmations] == [court.name]

    assert mediator.post(f"{url}/correct", form_url=url).status_code == 403
    assert _agreement(agreement.id).superseded_by is None


# ---- who may do what ---------------------------------------------------------------------------

def test_a_grid_worker_sees_but_cannot_issue(app, case):
    draft = _ready_draft(case)
    gridworker = _login(app, "gridworker")
    url = f"/agreements/{draft.id}"
    page = gridworker.client.get(url)
    assert page.status_code == 200  # the case is in the grid worker's grid
    assert f'action="{url}/issue"' not in page.get_data(as_text=True)
    form_url = f"/cases/{case.number}"
    assert gridworker.post(f"/cases/{case.number}/agreements",
                           form_url=form_url).status_code == 403
    assert gridworker.post(url, {"facts": "改"}, form_url=form_url).status_code == 403
    assert gridworker.client.get(f"{url}/terms/new").status_code == 403
    assert gridworker.client.get(f"{url}/preview.pdf").status_code == 403
    assert gridworker.post(f"{url}/issue", {"version": str(draft.lock_version)},
                           form_url=form_url).status_code == 403
    assert _agreement(draft.id).is_draft
    operations.issue(user("mediator"), draft, verify_url=VERIFY_BASE)
    db.session.commit()
    assert gridworker.post(f"{url}/signatures", {
        "signer": "seal", "signed_on": today().isoformat(), "method": "signature"},
        form_url=form_url).status_code == 403
    assert gridworker.post(f"{url}/application.pdf", form_url=form_url).status_code == 403
    assert gridworker.post(f"{url}/correct", form_url=form_url).status_code == 403
    assert _agreement(draft.id).sealed_on is None


def test_another_communitys_mediator_gets_not_found(app, case):
    agreement = _issued(case)
    qingfeng = db.session.scalar(select(Committee).where(Committee.short_name == "清风社区"))
    user_ops.create_user(None, username="wangjianguo", full_name="王建国", role=Role.MEDIATOR,
                         password=DEMO_PASSWORD, committees=[qingfeng],
                         must_change_password=False)
    db.session.commit()
    outsider = _login(app, "wangjianguo")
    url = f"/agreements/{agreement.id}"
    assert outsider.client.get(url).status_code == 404
    assert outsider.client.get(f"{url}/pdf").status_code == 404
    assert outsider.post(f"{url}/application.pdf", form_url="/").status_code == 404
    assert outsider.post(f"{url}/correct", form_url="/").status_code == 404
    assert audit_entries("case.agreement.pdf.read", agreement.case) == []


def test_anonymous_is_sent_to_log_in(app, case):
    agreement = _issued(case)
    client = app.test_client()
    for path in ["", "/pdf", "/preview.pdf"]:
        response = client.get(f"/agreements/{agreement.id}{path}")
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path
    # The application is a form's POST (with the login page's token here).
    response = Auth(client).post(f"/agreements/{agreement.id}/application.pdf",
                                 form_url="/login")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- public verification -----------------------------------------------------------------------

def test_anyone_verifies_an_agreement_by_its_code(app, case):
    agreement = _issued(case)
    code = agreement.verification_code
    public = Auth(app.test_client())
    assert public.client.get("/verify").status_code == 200
    typed = code.lower().replace("-", " ")  # as read over the phone
    response = public.post("/verify", {"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/v/{code}")

    page = public.client.get(f"/v/{code}").get_data(as_text=True)
    for shown in [agreement.number, "文苑社区人民调解委员会", "王**", "李**", agreement.sha256,
                  agreement.issued_on.isoformat()]:
        assert shown in page, shown
    for hidden in ["王建国", "李卫东", NARRATIVE[:10], *PHONES, case.number, case.title,
                   "天花板修复费用", "东苑小区"]:
        assert hidden not in page, hidden


def test_an_uploaded_copy_is_compared_byte_for_byte(app, case):
    agreement = _issued(case)
    public = Auth(app.test_client())
    _english(public)
    url = f"/v/{agreement.verification_code}"

    def compare(data: bytes) -> str:
        response = public.post(url, {"file": (io.BytesIO(data), "copy.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    page = compare(agreement.pdf)
    assert "Identical" in page and "Not identical" not in page
    tampered = bytearray(agreement.pdf)
    tampered[len(tampered) // 2] ^= 0x01
    page = compare(bytes(tampered))
    assert "Not identical" in page
    assert agreement.sha256 in page  # the published hash, to check by hand


def test_an_unknown_code_is_not_found(app, case):
    _issued(case)
    public = Auth(app.test_client())
    _english(public)
    for code in ["ABCD-EFGH-JKLM-NPQR", "nonsense", "-"]:
        response = public.client.get(f"/v/{code}")
        assert response.status_code == 404, code
        assert "No agreement has this verification code" in response.get_data(as_text=True)
    response = public.post("/verify", {"code": "???"}, follow_redirects=True)
    assert response.status_code == 404


def test_a_superseded_version_says_so(app, case):
    v1 = _issued(case)
    v2 = operations.correct(user("mediator"), v1)
    db.session.commit()
    public = Auth(app.test_client())  # in the default language
    english = Auth(app.test_client())
    _english(english)
    url = f"/v/{v1.verification_code}"
    page = english.client.get(url).get_data(as_text=True)
    assert "Superseded" not in page  # the correction is only a draft: v1 is still the one
    assert "Issued, not yet in force" in page
    operations.issue(user("mediator"), v2, verify_url=VERIFY_BASE)
    db.session.commit()
    page = public.client.get(url).get_data(as_text=True)
    assert v1.number in page and v2.number in page  # replaced by the new number
    page = english.client.get(url).get_data(as_text=True)
    assert "Superseded by a correction" in page and v2.number in page
    current = english.client.get(f"/v/{v2.verification_code}").get_data(as_text=True)
    assert "Superseded" not in current and "Issued, not yet in force" in current
    # Both versions stay on the case.
    mediator = _login(app, "mediator")
    case_page = mediator.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert v1.number in case_page and v2.number in case_page


def test_a_party_s_missing_details_are_completed_inside_the_builder(app, demo_city):
    """The builder asks for exactly what a party's block lacks, saves it on the party (for
    the case too) and shows the issue button's reasons until nothing lacks."""
    mediator = user("mediator")
    found = make_case(mediator, grid=area(GRID), narrative=NARRATIVE, parties=[
        full_person(applicant, "王建国", phone=PHONES[0]),
        respondent("李卫东", phone=PHONES[1])])  # no gender, birth date, occupation…
    walk_to(found, S.IN_MEDIATION, mediator)
    found.handler = mediator
    db.session.commit()
    agreement = operations.start_draft(mediator, found)
    db.session.commit()
    party = next(e.party for e in agreement.parties if e.party.name == "李卫东")
    auth = _login(app, "mediator")
    url = f"/agreements/{agreement.id}"
    page = auth.client.get(url).get_data(as_text=True)
    assert f'action="/agreements/{agreement.id}/parties/{party.id}"' in page
    for name in ("gender", "ethnicity", "birth_date", "occupation", "address"):
        assert f'id="p{party.id}-{name}"' in page
    assert f'id="p{party.id}-phone"' not in page  # recorded already
    assert 'id="issue-blocked"' in page and "李卫东：协议书须载明其" in page

    prefix = f"p{party.id}-"
    bad = auth.post(f"{url}/parties/{party.id}", {
        f"{prefix}gender": "male", f"{prefix}birth_date": "2999-01-01"}, form_url=url)
    assert bad.status_code == 422
    assert "出生日期不能晚于今天。" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(party), party.id).gender is None  # nothing saved

    response = auth.post(f"{url}/parties/{party.id}", {
        f"{prefix}gender": "female", f"{prefix}ethnicity": "汉族",
        f"{prefix}birth_date": "1980-05-06", f"{prefix}occupation": "教师",
        f"{prefix}address": "东营市东湖区东苑小区3号楼402室"}, form_url=url)
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(type(party), party.id)
    assert (saved.gender, saved.ethnicity, saved.birth_date.isoformat(), saved.occupation) == \
        (Gender.FEMALE, "汉族", "1980-05-06", "教师")
    page = auth.client.get(url).get_data(as_text=True)
    assert f'action="/agreements/{agreement.id}/parties/{party.id}"' not in page
    assert "李卫东：协议书须载明其" not in page
