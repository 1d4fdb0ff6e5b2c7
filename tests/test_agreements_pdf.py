"""The issued agreement and the judicial-confirmation application as PDFs, read back with
poppler's pdftotext and pdfinfo: every element the law and the issue ask for is there."""

import hashlib
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from agreements_helpers import VERIFY_URL, agreement_city, full_person, ready_draft, settled_case
from cases_helpers import applicant, respondent

from mediation.agreements import documents, operations, rules
from mediation.cases.models import Gender
from mediation.core import calendar
from mediation.core.identity import id_check_char
from mediation.extensions import db

ISSUE_DAY = date(2026, 9, 1)
# 王建国, male, born 8 March 1975: a resident ID that passes the GB 11643 check.
ID_17 = "37050219750308001"
ID_NUMBER = ID_17 + id_check_char(ID_17)


def _flat(text: str) -> str:
    """pdftotext breaks lines and pads with spaces where the layout did: compare without."""
    return re.sub(r"\s+", "", text)


def _write(tmp_path: Path, data: bytes, name: str = "agreement.pdf") -> Path:
    assert data.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return {key.strip(): value.strip() for key, _sep, value in
            (line.partition(":") for line in out.splitlines())}


@pytest.fixture
def city(app, monkeypatch):
    monkeypatch.setattr(operations, "today", lambda: ISSUE_DAY)
    return agreement_city()


def _case(city):
    return settled_case(city, parties=[
        full_person(applicant, "王建国", id_type="resident_id", id_number=ID_NUMBER,
                    agent_name="赵文华", agent_phone="13705460001"),
        full_person(respondent, "李卫东", gender=Gender.FEMALE, ethnicity="回",
                    birth_date=date(1982, 11, 20), occupation="个体经营",
                    phone="13905467788", address="东营市东湖区东苑小区3号楼402室")])


def _issued(city, case=None, **draft):
    agreement = ready_draft(city, case or _case(city), **draft)
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.commit()
    return agreement


def test_the_issued_pdf_shows_every_element(city, tmp_path):
    agreement = _issued(city)
    path = _write(tmp_path, agreement.pdf)
    text = _flat(_text(path))
    code = agreement.verification_code
    expected = [
        "人民调解协议书", agreement.number,
        # Each party's block as the law lists it (PML art. 29).
        "当事人甲（申请人）：王建国，男，汉族，1975年3月8日出生，职业：职工，"
        "住址：东营市东湖区东苑小区3号楼502室，联系电话：13805461234，"
        f"居民身份证号码：{'*' * 14}{ID_NUMBER[-4:]}。",
        "委托代理人：赵文华，联系电话：13705460001。",
        "当事人乙（被申请人）：李卫东，女，回族，1982年11月20日出生，职业：个体经营，"
        "住址：东营市东湖区东苑小区3号楼402室，联系电话：13905467788。",
        "纠纷主要事实、争议事项",
        "3号楼502室卫生间漏水，402室天花板受损，双方就维修费用协商未果。",
        "漏水损失的赔偿数额及维修责任。",
        "王建国：对漏水造成的损失无过错。",
        "李卫东：卫生间防水层老化未及时维修，对损失负全部责任。",
        "经调解，自愿达成如下协议",
        "一、李卫东赔偿王建国天花板修复费用",
        "义务人：李卫东；权利人：王建国；金额：人民币3,800.00元（大写：人民币叁仟捌佰元整）；"
        "履行方式：银行转账；履行地点：东苑社区人民调解委员会；履行期限：2026年12月31日前。",
        "二、李卫东于本协议签订后十五日内修复卫生间防水层",
        "义务人：李卫东；履行方式：自行委托施工；履行地点：东苑小区3号楼502室；"
        "履行期限：2026年12月15日前。",
        "本协议一式三份，当事人、人民调解委员会各持一份。",
        "当事人（签名盖章或按指印）：王建国", "当事人（签名盖章或按指印）：李卫东",
        "人民调解员（签名）：张志强", "记录人（签名）：刘晓燕",
        # Issued before anyone signed: the date is written in when it is signed and sealed.
        "东苑社区人民调解委员会（人民调解委员会印）年月日",
        f"验证码：{code}", VERIFY_URL.format(code=code),
        f"案件编号：{agreement.case.number}",
        "第1页共2页", "第2页共2页",
    ]
    missing = [element for element in expected if _flat(element) not in text]
    assert missing == [], text
    # The full ID number is never printed, only its masked form.
    assert ID_NUMBER not in text
    # The footer of every page carries the number and the code.
    for page in (1, 2):
        footer = _flat(_text(path, page))
        assert f"{agreement.number}验证码{code}" in footer
        assert f"第{page}页共2页" in footer


def test_the_pdf_metadata_and_its_hash(city, tmp_path):
    agreement = _issued(city)
    path = _write(tmp_path, agreement.pdf)
    info = _info(path)
    assert agreement.number in info["Title"] and "人民调解协议书" in info["Title"]
    assert agreement.case.number in info["Keywords"]
    assert info["Author"] == "东苑社区人民调解委员会"
    assert info["Pages"] == "2"
    assert agreement.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert agreement.sha256 == hashlib.sha256(agreement.pdf).hexdigest()


def test_a_long_agreement_flows_over_pages_and_keeps_each_term_whole(city, tmp_path):
    case = _case(city)
    paragraph = ("2026年6月起，3号楼502室卫生间地面防水层老化渗漏，402室卫生间及客厅天花板"
                 "多处出现水渍、霉斑和墙皮脱落，双方多次协商维修及赔偿事宜未果，遂申请调解。")
    facts = "\n".join([paragraph] * (3000 // len(paragraph) + 1))
    assert len(facts) >= 3000
    case.narrative = facts
    first, second = (p.id for p in case.parties)
    contents = [f"李卫东于{m}月{d}日前完成第{n}项修复工作并承担由此产生的材料费、人工费及"
                f"垃圾清运费用，王建国应予配合并提供入户便利" for n, (m, d) in
                enumerate([(10, 5), (10, 12), (10, 19), (10, 26), (11, 2), (11, 9), (11, 16),
                           (11, 23), (11, 30), (12, 7), (12, 14), (12, 21)], start=1)]
    terms = [operations.TermInput(content=content, obligor_id=second, obligee_id=first,
                                  amount=f"{1000 + 100 * n}", method="银行转账",
                                  place="东苑小区3号楼", due_on=date(2026, 12, 31))
             for n, content in enumerate(contents)]
    agreement = _issued(city, case, terms=terms)
    path = _write(tmp_path, agreement.pdf)
    pages = int(_info(path)["Pages"])
    assert pages >= 3
    texts = {n: _flat(_text(path, n)) for n in range(1, pages + 1)}
    footer = f"{agreement.number}验证码{agreement.verification_code}第{{n}}页共{pages}页"
    for n, text in texts.items():
        assert text.endswith(footer.format(n=n)), f"page {n} has no footer"
    body = "".join(text.removesuffix(footer.format(n=n)) for n, text in texts.items())
    assert _flat(facts) in body  # the facts flow on, nothing cut

    where = []
    for index, term in enumerate(agreement.terms, start=1):
        head = _flat(f"{rules.chinese_ordinal(index)}、{term.content}")
        details = _flat(documents.term_details(term))
        found = [n for n, text in texts.items() if head in text and details in text]
        assert len(found) == 1, f"term {index} is split across pages or missing"
        where.append(found[0])
    assert where == sorted(where)
    assert where[0] < where[-1]  # the terms do cross a page break, whole


@pytest.mark.skipif(not calendar.library_covers(2026),
                    reason="chinesecalendar lacks the 2026 schedule")
def test_the_application_for_judicial_confirmation(city, tmp_path):
    agreement = _issued(city)
    for entry in agreement.parties:
        operations.record_signature(city.mediator, agreement, f"party:{entry.party_id}",
                                    ISSUE_DAY)
    operations.record_signature(city.mediator, agreement, "mediator", ISSUE_DAY)
    operations.record_signature(city.mediator, agreement, "seal", ISSUE_DAY)
    db.session.commit()
    assert agreement.effective_on == ISSUE_DAY
    path = _write(tmp_path, documents.application_pdf(agreement, court_name="测试区人民法院"),
                  "application.pdf")
    text = _flat(_text(path))
    expected = [
        "司法确认申请书",
        "申请人：王建国，男，汉族，1975年3月8日出生", "申请人：李卫东，女，回族",
        agreement.number, "东苑社区人民调解委员会",
        "一、李卫东赔偿王建国天花板修复费用", "二、李卫东于本协议签订后十五日内修复卫生间防水层",
        "于2026年9月1日生效",
        "没有恶意串通、规避法律",
        "此致测试区人民法院",
        "申请人（签名盖章或按指印）",
        # The materials to bring.
        "司法确认申请书", f"人民调解协议书（编号：{agreement.number}）",
        "王建国：身份证明复印件，住所、送达地址及联系电话",
        "李卫东：身份证明复印件，住所、送达地址及联系电话",
        "王建国的委托代理人赵文华：授权委托书",
        # 1 September + 30 days is 1 October, National Day: the holiday runs to 7 October,
        # so the last day is Thursday 8 October.
        "最迟于2026年10月8日（含当日）",
    ]
    missing = [element for element in expected if _flat(element) not in text]
    assert missing == [], text
    info = _info(path)
    assert agreement.number in info["Title"] and agreement.case.number in info["Keywords"]


def test_the_draft_preview_is_marked_and_unnumbered(city, tmp_path):
    agreement = ready_draft(city, _case(city))
    path = _write(tmp_path, documents.agreement_pdf(agreement, draft=True))
    text = _flat(_text(path))
    assert "草稿" in text and "编号：（签发时生成）" in text
    assert "人调字" not in text and "验证码" not in text
    assert "人民币叁仟捌佰元整" in text
    assert agreement.is_draft and agreement.number is None
