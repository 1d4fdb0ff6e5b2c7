"""Judicial confirmation as a court clerk reads it: which agreements a court accepts (use
rights, marriage, amounts), and the parties' joint application (司法确认申请书) read back
with pdftotext — full ID numbers (an audited reveal), the cause, the last day, the
addresses for service, a provisional year, and no application after the 30 days."""

import html
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from conftest import Auth
from sqlalchemy import select

from mediation.agreements import documents, operations, rules, views
from mediation.agreements.models import Agreement, AgreementStatus, Instalment, Term
from mediation.areas.models import Court
from mediation.cases.models import Case, Category, Gender, PartyKind, PartyRole
from mediation.cases.operations import PartyInput
from mediation.cases.rules import today
from mediation.cases.states import CaseState
from mediation.core import calendar
from mediation.core.audit import AuditEntry
from mediation.core.errors import OperationError
from mediation.core.identity import id_check_char
from mediation.extensions import db

GRID = "370599001001-01"  # 文苑社区第1网格: the demo mediator's and grid worker's
COURT = "东湖区人民法院"
# Valid resident ID numbers (GB 11643): 王建国 born 8 March 1975, 李卫东 born 20 Nov 1982.
WANG_ID = "37050219750308001" + id_check_char("37050219750308001")
LI_ID = "37050219821120002" + id_check_char("37050219821120002")
WANG_ADDRESS = "东营市东湖区东苑小区3号楼502室"
LI_ADDRESS = "东营市东湖区东苑小区3号楼402室"
COMPANY = "东营市安居物业管理有限公司"
COMPANY_ADDRESS = "东营市东湖区府前大街88号"
# Signed and in force on Saturday 12 December 2026: day 30 is Monday 11 January 2027, a
# year whose official holiday schedule is not out yet (provisional).
SIGNED = date(2026, 12, 12)

provisional_2027 = pytest.mark.skipif(calendar.library_covers(2027),
                                      reason="chinesecalendar has 2027: not provisional")


# ---- eligibility (no database) ---------------------------------------------------------------



def _verdict(*terms: Term, disputed: str = "双方就宅基地边界及损失赔偿发生争议。"):
    return rules.eligibility(Agreement(
        terms=list(terms), status=AgreementStatus.ISSUED, concerns_status=False,
        determines_ownership=False, facts="", disputed_matters=disputed))


def _term(content: str, amount_fen: int | None = None, **fields) -> Term:
    fields.setdefault("due_on", date(2026, 12, 31))
    return Term(content=content, amount_fen=amount_fen,
                on_the_spot=fields.pop("on_the_spot", False), **fields)


@pytest.mark.parametrize("wording", [
    "确认东苑村3组东侧宅基地归王建国使用",
    "争议宅基地的使用权归李卫东",
    "双方争议承包地的土地承包经营权归王建国",
    "确认王建国享有东苑小区3号楼502室房屋使用权",
    "东侧院落归李卫东居住使用",
])
def test_a_determination_of_use_rights_is_refused_like_ownership(english, wording):
    verdict = _verdict(_term(wording))
    assert not verdict.eligible
    assert len(verdict.refusals) == 1 and "right to use land or a house" in verdict.refusals[0]
    assert "art. 355" in verdict.refusals[0]


@pytest.mark.parametrize("wording", [
    "李卫东将车位出租给王建国使用，租金每月300元",
    "王建国同意李卫东经其院内通道通行",
    "陶喆于2026年12月31日前拆除越界建在王建国宅基地上的围墙",
])
def test_using_something_by_agreement_is_not_a_determination(english, wording):
    verdict = _verdict(_term(wording, amount_fen=30000))
    assert verdict.eligible, verdict.refusals


@pytest.mark.parametrize("wording", [
    "王建国于2027年3月1日前将借用的房屋归还李卫东使用",
    "房屋归还王建国居住",
    "李卫东于2027年1月31日前归还借款50000元",
    "李卫东将钥匙归还王建国",
    "李卫东将借用的土地归还王建国承包经营",
    "双方确认李卫东已归还王建国所有借款",
])
def test_giving_back_what_was_lent_is_not_a_determination(english, wording):
    """"归还" gives back what was lent or owed; it decides no one's right in property."""
    verdict = _verdict(_term(wording, amount_fen=5000000),
                       disputed="借用的财物及借款何时归还。")
    assert verdict.eligible, verdict.refusals
    assert verdict.warnings == []


def test_a_mention_of_a_homestead_asks_the_mediator_to_check(english):
    verdict = _verdict(_term("陶喆于2026年12月31日前拆除越界建在王建国宅基地上的围墙"))
    assert verdict.eligible
    assert len(verdict.warnings) == 1
    assert "mentions a right to use land or a house" in verdict.warnings[0]


@pytest.mark.parametrize("wording", [
    "王建国与李卫东自愿解除婚姻关系",
    "双方解除夫妻关系",
    "王建国与李卫东离婚，女儿王小雨由李卫东抚养",
    "双方同意离婚",
    "双方达成离婚协议，于2027年1月31日前办理手续",
    # Ends the marriage and then speaks of afterwards: still the marriage ending.
    "双方同意离婚，离婚后女儿由李卫东抚养，王建国每月支付抚养费1500元",
])
def test_wording_that_ends_a_marriage_is_refused_not_only_warned(english, wording):
    verdict = _verdict(_term(wording, amount_fen=150000),
                       disputed="双方婚姻关系及子女抚养。")
    assert not verdict.eligible
    assert len(verdict.refusals) == 1 and "dissolves a marriage" in verdict.refusals[0]
    assert verdict.warnings == []


@pytest.mark.parametrize("wording", [
    "离婚后子女抚养费由王建国每月支付1500元",
    "王建国按双方离婚协议的约定每月支付女儿抚养费1500元",
    "双方已于2023年5月离婚，王建国每月支付女儿抚养费1500元",
])
def test_support_owed_after_a_past_divorce_is_confirmable(english, wording):
    """The divorce is the history, the support is what the court confirms: an ordinary civil
    obligation — only a note asks the mediator to check."""
    verdict = _verdict(_term(wording, amount_fen=150000),
                       disputed="双方离婚后女儿抚养费的数额及支付方式。")
    assert verdict.eligible, verdict.refusals
    assert any("mentions marriage" in w for w in verdict.warnings)


@pytest.mark.parametrize(("term", "no_amount"), [
    (_term("陶喆于2027年1月31日前拆除违章搭建的围墙"), False),
    (_term("李卫东向王建国赔礼道歉", due_on=None, on_the_spot=True), False),
    (_term("李卫东修复3单元楼道照明"), False),
    (_term("李卫东赔偿王建国误工损失"), True),
    (_term("王建国支付李卫东维修费"), True),
    (_term("李卫东补足差额", method="微信转账"), True),
    (_term("李卫东分期支付误工费", due_on=None,
           instalments=[Instalment(due_on=date(2027, 1, 1), amount_fen=100000)]), False),
], ids=["demolition", "apology", "repair", "damages", "fee", "by-transfer", "instalments"])
def test_only_a_term_about_money_must_state_an_amount(english, term, no_amount):
    verdict = _verdict(term, disputed="损失赔偿及施工。")
    assert verdict.eligible
    assert [w for w in verdict.warnings if "states no amount" in w] == (
        ["Term 一 states no amount: a court dismisses terms whose content is unclear (CPL "
         "Interpretation art. 358) — check that what is owed is definite."]
        if no_amount else [])


@pytest.mark.parametrize(("code", "name", "report_as", "cause"), [
    ("neighbour", "邻里", None, "相邻关系纠纷"),
    ("water_leak", "房屋漏水", "neighbour", "相邻关系纠纷"),
    ("pets", "宠物饲养", "neighbour", "相邻关系纠纷"),
    ("traffic", "道路交通事故", None, "机动车交通事故责任纠纷"),
    ("parking", "小区停车", None, "小区停车纠纷"),
    ("loans", "民间借贷纠纷", None, "民间借贷纠纷"),
])
def test_the_cause_comes_from_the_category(code, name, report_as, cause):
    category = Category(code=code, name=name, name_en=code, report_as=report_as)
    assert rules.cause_of_action(category) == cause


# ---- the application, through the pages ------------------------------------------------------

def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages(data: bytes, tmp_path: Path, name: str = "application.pdf") -> list[str]:
    """The PDF's text page by page (``pdftotext -f N -l N``), flattened."""
    assert data.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [_flat(subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n),
                                  str(path), "-"], check=True, capture_output=True,
                                 text=True).stdout) for n in range(1, count + 1)]


def _login(app, username: str) -> Auth:
    auth = Auth(app.test_client())
    assert auth.login(username).status_code == 302
    return auth


def _reveals(party_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.id_number.read", AuditEntry.object_type == "Party",
        AuditEntry.object_id == str(party_id))))


@pytest.fixture
def case(demo_city) -> Case:
    """A neighbours' dispute in 文苑社区 between two people and a property company."""
    mediator = user("mediator")
    found = make_case(mediator, grid=area(GRID), category="neighbour",
                      title="楼上漏水导致天花板受损", parties=[
        applicant("王建国", gender=Gender.MALE, ethnicity="汉族", birth_date=date(1975, 3, 8),
                  occupation="职工", phone="13805461234", address=WANG_ADDRESS,
                  id_type="resident_id", id_number=WANG_ID),
        respondent("李卫东", gender=Gender.FEMALE, ethnicity="汉族",
                   birth_date=date(1982, 11, 20), occupation="个体经营", phone="13905467788",
                   address=LI_ADDRESS, id_type="resident_id", id_number=LI_ID),
        PartyInput(role=PartyRole.RESPONDENT, kind=PartyKind.ORGANISATION, name=COMPANY,
                   address=COMPANY_ADDRESS, legal_representative="赵明",
                   legal_representative_title="总经理", phone="05468881234")])
    walk_to(found, CaseState.IN_MEDIATION, mediator)
    found.handler = mediator
    if db.session.scalar(select(Court)) is None:  # the demo city's district court
        db.session.add(Court(name=COURT, area=area("370599")))
    db.session.commit()
    return found


def _in_force(case: Case, terms: list[operations.TermInput] | None = None) -> Agreement:
    """Drafted, issued and signed by everyone through the operations, on today()."""
    mediator = user("mediator")
    agreement = operations.start_draft(mediator, case)
    wang, li, company = (e.party for e in agreement.parties)
    operations.update_draft(mediator, agreement, operations.DraftInput(
        facts=case.narrative, disputed_matters="漏水损失的赔偿数额及维修责任。", copies=4,
        mediator=mediator, recorder_name="刘晓燕", inviting_court=None,
        concerns_status=False, determines_ownership=False,
        responsibilities={wang.id: "无过错。", li.id: "负主要责任。",
                          company.id: "未及时排查公共管道，负次要责任。"}))
    for term in terms or [
        operations.TermInput(content="李卫东赔偿王建国天花板修复费用3800元。",
                             obligor_id=li.id, obligee_id=wang.id, amount="3800",
                             method="银行转账", due_on=SIGNED + timedelta(days=20)),
        operations.TermInput(content="东营市安居物业管理有限公司于本协议签订后十五日内检修"
                             "3号楼公共排水管道。", obligor_id=company.id,
                             due_on=SIGNED + timedelta(days=15), method="自行组织施工"),
    ]:
        operations.save_term(mediator, agreement, None, term)
    operations.issue(mediator, agreement, verify_url="http://localhost/v/{code}")
    for signer in [f"party:{e.party_id}" for e in agreement.parties] + ["mediator", "seal"]:
        operations.record_signature(mediator, agreement, signer, agreement.issued_on)
    db.session.commit()
    assert agreement.in_force
    return agreement


@pytest.fixture
def on_signing_day(monkeypatch):
    """The agreements' day is SIGNED, for the operations and the pages alike."""
    monkeypatch.setattr(operations, "today", lambda: SIGNED)
    monkeypatch.setattr(views, "today", lambda: SIGNED)


def _application_forms(page: str) -> list[str]:
    """Where the page's buttons for the application post to (producing it reveals ID
    numbers: never a link a GET could follow)."""
    assert not re.search(r'href="[^"]*/application\.pdf', page)
    return [html.unescape(a) for a in
            re.findall(r'<form method="post" action="([^"]*/application\.pdf[^"]*)"', page)]


@provisional_2027
def test_the_application_as_a_court_clerk_reads_it(app, case, on_signing_day, tmp_path):
    agreement = _in_force(case)
    assert agreement.effective_on == SIGNED
    wang, li, company = (e.party for e in agreement.parties)
    mediator = _login(app, "mediator")
    url = f"/agreements/{agreement.id}"
    page = mediator.client.get(url).get_data(as_text=True)
    # The page keeps the numbers masked; it names the last day and says 2027 is provisional.
    assert WANG_ID not in page and LI_ID not in page
    assert "2027-01-11" in page and "provisional-note" in page
    forms = _application_forms(page)
    assert forms, "no application button"

    response = mediator.post(forms[0], form_url=url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pages = _pages(response.data, tmp_path)
    text = "".join(pages)
    # The court identifies the applicants by their full ID numbers.
    assert f"号码：{WANG_ID}" in text and f"号码：{LI_ID}" in text
    assert "*" not in text
    # The cause is the category's, not the case's title.
    assert "申请人因相邻关系纠纷，经" in text
    assert "楼上漏水导致天花板受损纠纷" not in text
    # A term ending with 。 is joined without doubling it.
    assert "。。" not in text
    assert "一、李卫东赔偿王建国天花板修复费用3800元；二、东营市安居物业管理有限公司" in text
    assert "排水管道。该协议已经" in text
    # The last day, unambiguous, and the year it falls in said to be provisional.
    assert "最迟于2027年1月11日（含当日）" in text
    assert ("注：2027年国务院节假日安排尚未公布，上述期限按法定节假日暂定计算，"
            "请以法院认定为准。") in text
    # The addresses for service: each person's address, the company's registered one.
    assert (f"送达地址确认书（王建国：{WANG_ADDRESS}；李卫东：{LI_ADDRESS}；"
            f"{COMPANY}：{COMPANY_ADDRESS}）") in text
    # 此致, the court and the signature lines on one page.
    closing = [n for n, p in enumerate(pages) if "此致" in p]
    assert len(closing) == 1 and f"此致{COURT}申请人（签名盖章或按指印）" in pages[closing[0]]
    # The company seals, and its legal representative or agent signs.
    assert f"申请人（盖章）：________________{COMPANY}法定代表人或委托代理人（签名）" in text

    # Producing it revealed each recorded ID number once, in the audit log, by the mediator.
    db.session.expire_all()
    account = user("mediator")
    for party in (wang, li):
        entries = _reveals(party.id)
        assert [e.actor_id for e in entries] == [account.id], party.name
    assert _reveals(company.id) == []  # an organisation has no ID number to reveal
    # Everywhere else the numbers stay masked: the agreement PDF as issued.
    issued = "".join(_pages(mediator.client.get(f"{url}/pdf").data, tmp_path, "agreement.pdf"))
    assert WANG_ID not in issued and WANG_ID[-4:] in issued


def test_the_application_dates_the_agreement_by_its_signing_not_its_printing(app, case,
                                                                            on_signing_day,
                                                                            tmp_path):
    """Printed (issued) on 9 December, signed and sealed on 12 December: the agreement was
    reached on the 12th, the date under its seal, and the application says so throughout."""
    agreement = _in_force(case)
    agreement.issued_on = SIGNED - timedelta(days=3)
    db.session.commit()
    assert agreement.effective_on == documents.signing_date(agreement) == SIGNED
    text = "".join(_pages(documents.application_pdf(agreement, court_name=COURT), tmp_path))
    assert f"请求依法确认申请人于2026年12月12日经{agreement.committee.name}主持调解达成的" in text
    assert f"主持调解，于2026年12月12日自愿达成人民调解协议，协议编号为{agreement.number}" in text
    assert "加盖人民调解委员会印章，于2026年12月12日生效" in text
    assert "自调解协议生效之日（2026年12月12日）起三十日内" in text
    assert "2026年12月9日" not in text


def test_no_application_from_another_sites_link_or_image(app, case, on_signing_day):
    """Producing the application reveals full ID numbers in the user's name: a GET (an
    <img> or a link on another site) or a POST without the page's CSRF token produces
    nothing and reveals nothing."""
    agreement = _in_force(case)
    mediator = _login(app, "mediator")
    url = f"/agreements/{agreement.id}/application.pdf"
    for response in [mediator.client.get(url), mediator.client.get(f"{url}?court=0"),
                     mediator.client.post(url), mediator.client.post(url, data={
                         "csrf_token": "forged"})]:
        assert response.status_code in (400, 405)
        assert not response.data.startswith(b"%PDF")
    assert "POST" in mediator.client.get(url).headers["Allow"]
    db.session.expire_all()
    assert [_reveals(e.party_id) for e in agreement.parties] == [[], [], []]
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.agreement.application.read")) is None
    # With the page's token it is produced.
    response = mediator.post(url, form_url=f"/agreements/{agreement.id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    db.session.expire_all()
    assert [len(_reveals(e.party_id)) for e in agreement.parties] == [1, 1, 0]
    assert db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "case.agreement.application.read")) is not None


@provisional_2027
def test_the_home_page_names_the_last_day_and_says_2027_is_provisional(app, case,
                                                                       on_signing_day,
                                                                       monkeypatch):
    _in_force(case)
    monkeypatch.setattr(views, "today", lambda: date(2027, 1, 5))  # six days left
    home = html.unescape(_login(app, "mediator").client.get("/").get_data(as_text=True))
    assert "最迟于 2027-01-11（含当日）申请" in home
    assert re.search(r'class="hint provisional-note"[^>]*>[^<]*2027', home)


def test_without_the_right_to_reveal_no_application_is_produced(app, case):
    agreement = _in_force(case, terms=None)
    gridworker = user("gridworker")
    assert not gridworker.can("cases.reveal")
    with pytest.raises(OperationError, match="完整的身份证件号码"):
        operations.application_pdf(gridworker, agreement)
    assert [_reveals(e.party_id) for e in agreement.parties] == [[], [], []]
    url = f"/agreements/{agreement.id}"
    assert _login(app, "gridworker").post(f"{url}/application.pdf",
                                          form_url=url).status_code == 403


def test_this_letter_stays_with_the_court_and_the_signatures(app, case, on_signing_day,
                                                              tmp_path):
    """Terms of every length push the closing down the page: 此致 never stays behind, alone
    at the foot of a page, while the court's name and the signatures go over."""
    agreement = _in_force(case)
    parted = []
    for count in range(1, 9):
        agreement.terms[0].content = "李卫东赔偿王建国天花板修复费用3800元，" + \
            "并承担因漏水造成的家具、地板及墙面损失的修复费用，" * (count * 3) + "。"
        pages = _pages(documents.application_pdf(agreement, court_name=COURT), tmp_path)
        with_closing = [n for n, p in enumerate(pages) if "此致" in p]
        assert len(with_closing) == 1
        if f"此致{COURT}申请人（签名盖章或按指印）" not in pages[with_closing[0]]:
            parted.append(count)
    assert len(pages) > 1 and parted == []
    db.session.rollback()


def test_after_the_30_days_the_application_is_refused_with_what_remains(app, case):
    agreement = _in_force(case, terms=None)
    agreement.effective_on = today() - timedelta(days=40)
    db.session.commit()
    assert rules.confirmation_deadline(agreement.effective_on) < today()
    mediator = _login(app, "mediator")
    url = f"/agreements/{agreement.id}"
    page = html.unescape(mediator.client.get(url).get_data(as_text=True))
    explanation = ["申请司法确认的三十日期限已于", "《人民调解法》第三十三条",
                   "《民事诉讼法》第二百零五条", "通过调解达成新的调解协议", "向人民法院提起诉讼",
                   "第三十二条"]
    assert all(part in page for part in explanation), page
    assert _application_forms(page) == []

    response = mediator.post(f"{url}/application.pdf", form_url=url)
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert not response.data.startswith(b"%PDF")
    shown = html.unescape(mediator.client.get(url).get_data(as_text=True))
    flashed = re.findall(r'<p class="flash flash--error"[^>]*>(.*?)</p>', shown, re.S)
    assert len(flashed) == 1 and all(part in flashed[0] for part in explanation)
    db.session.expire_all()
    assert [_reveals(e.party_id) for e in agreement.parties] == [[], [], []]
