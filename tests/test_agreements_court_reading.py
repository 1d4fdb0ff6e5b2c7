"""The agreement as a court clerk reads it: terms that bind several parties jointly (连带)
or by shares (按份), "各方" when there are more than two parties, the closing clauses on
the page of the signatures (or "（此页无正文）"), the signing date under the seal, an
organisation signing through its representative — read back from the PDF with pdftotext;
and the same terms through the builder, the API and the migration that brought them."""

import importlib.util
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from agreements_helpers import VERIFY_URL, agreement_city, full_person, ready_draft, settled_case
from alembic.migration import MigrationContext
from alembic.operations import Operations
from api_helpers import API, bearer, case_body, cli_token, person, post_ok
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from conftest import Auth
from flask_babel import force_locale
from sqlalchemy import select, text

from mediation.agreements import documents, operations
from mediation.agreements.models import Liability, Term, TermParty, TermSide
from mediation.areas.models import Court
from mediation.cases.models import Gender, PartyKind, PartyRole
from mediation.cases.operations import PartyInput
from mediation.cases.rules import today
from mediation.cases.states import CaseState
from mediation.core.errors import OperationError
from mediation.extensions import db

ISSUE_DAY = date(2026, 9, 1)
SIGNED_DAY = date(2026, 9, 3)
COMPANY = "东营市安居物业管理有限公司"


def _flat(value: str) -> str:
    return re.sub(r"\s+", "", value)


def _pages(data: bytes, tmp_path) -> list[str]:
    """The text of each page, as pdftotext -layout reads it (-f N -l N)."""
    assert data.startswith(b"%PDF-")
    path = tmp_path / "agreement.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(path), "-"],
                           check=True, capture_output=True, text=True).stdout
            for n in range(1, count + 1)]


def _text(data: bytes, tmp_path) -> str:
    return _flat("".join(_pages(data, tmp_path)))


@pytest.fixture
def city(app, monkeypatch):
    monkeypatch.setattr(operations, "today", lambda: ISSUE_DAY)
    return agreement_city()


def company(**fields) -> PartyInput:
    details = {"address": "东营市东湖区府前大街1号", "legal_representative": "孙建华",
               "legal_representative_title": "总经理", "phone": "05468881234"}
    details.update(fields)
    return PartyInput(role=PartyRole.RESPONDENT, kind=PartyKind.ORGANISATION, name=COMPANY,
                      **details)


def _three_parties(city):
    """王喆 against 陶喆 and the property company that manages the building."""
    return settled_case(city, parties=[
        full_person(applicant, "王喆"),
        full_person(respondent, "陶喆", gender=Gender.FEMALE, phone="13905467788",
                    address="东营市东湖区东苑小区3号楼402室"),
        company()])


JOINT = "陶喆、东营市安居物业管理有限公司共同赔偿王喆房屋修复费用"
BY_SHARES = "陶喆、东营市安居物业管理有限公司分别赔偿王喆误工费"


def _draft(city, case, terms=None):
    agreement = operations.start_draft(city.mediator, case)
    wang, tao, firm = (e.party for e in agreement.parties)
    operations.update_draft(city.mediator, agreement, operations.DraftInput(
        facts=case.narrative, disputed_matters="漏水损失的赔偿数额及维修责任。", copies=4,
        mediator=city.mediator, recorder_name="刘晓燕", inviting_court=None,
        concerns_status=False, determines_ownership=False,
        responsibilities={wang.id: "无过错。", tao.id: "防水层老化未维修，负主要责任。",
                          firm.id: "未尽物业巡查义务，负次要责任。"}))
    for term in terms if terms is not None else [
        operations.TermInput(content=JOINT, obligor_ids=[tao.id, firm.id],
                             obligee_ids=[wang.id], liability=Liability.JOINT,
                             amount="10000", method="银行转账", due_on=date(2026, 12, 31)),
        operations.TermInput(content=BY_SHARES, obligor_ids=[tao.id, firm.id],
                             obligee_ids=[wang.id], liability=Liability.SEVERAL,
                             shares={tao.id: "6000", firm.id: "4,000.00"}, amount="10000",
                             method="现金", due_on=date(2026, 11, 30)),
        operations.TermInput(content="东营市安居物业管理有限公司于十五日内修复3号楼公共管道",
                             obligor_id=firm.id, method="自行委托施工",
                             due_on=date(2026, 9, 30)),
    ]:
        operations.save_term(city.mediator, agreement, None, term)
    db.session.commit()
    return agreement


def _sign_all(city, agreement, on=SIGNED_DAY):
    for entry in agreement.parties:
        operations.record_signature(city.mediator, agreement, f"party:{entry.party_id}",
                                    ISSUE_DAY)
    operations.record_signature(city.mediator, agreement, "mediator", ISSUE_DAY)
    operations.record_signature(city.mediator, agreement, "seal", on)
    db.session.commit()


# ---- the PDF ---------------------------------------------------------------------------------

def test_a_three_party_agreement_reads_as_the_court_wants_it(city, monkeypatch, tmp_path):
    agreement = _draft(city, _three_parties(city))
    assert operations.problems(agreement) == []
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.commit()
    issued = _text(agreement.pdf, tmp_path)
    expected = [
        f"一、{JOINT}",
        "义务人：陶喆、东营市安居物业管理有限公司（连带责任）；权利人：王喆；"
        "金额：人民币10,000.00元（大写：人民币壹万元整）；履行方式：银行转账；"
        "履行期限：2026年12月31日前。",
        f"二、{BY_SHARES}",
        "义务人：陶喆（承担人民币6,000.00元）、东营市安居物业管理有限公司（承担人民币4,000.00元）"
        "（按份责任）；权利人：王喆；金额：人民币10,000.00元（大写：人民币壹万元整）",
        "义务人：东营市安居物业管理有限公司；履行方式：自行委托施工；履行期限：2026年9月30日前。",
        # More than two parties: every one of them, never "双方".
        "本协议自各方当事人签名、盖章或者按指印",
        "各方当事人可以自本协议生效之日起三十日内共同向有管辖权的人民法院申请司法确认",
        "本协议一式四份",
        # People sign; the company seals, and its representative or agent signs beneath.
        "当事人（签名盖章或按指印）：王喆", "当事人（签名盖章或按指印）：陶喆",
        "当事人（盖章）：东营市安居物业管理有限公司法定代表人或委托代理人（签名）：人民调解员",
        # Issued before anyone signed: the date is written in by hand.
        "东苑社区人民调解委员会（人民调解委员会印）年月日",
    ]
    missing = [line for line in expected if _flat(line) not in issued]
    assert missing == [], issued
    assert "双方当事人" not in issued
    assert "当事人（签名盖章或按指印）：东营市安居物业管理有限公司" not in issued
    assert "2026年9月1日" not in issued  # the issue day is not the signing day

    # Signed and sealed: a copy printed now carries the day it was completed.
    monkeypatch.setattr(operations, "today", lambda: SIGNED_DAY)
    _sign_all(city, agreement)
    assert agreement.effective_on == SIGNED_DAY
    signed = _text(documents.agreement_pdf(agreement, verify_url=VERIFY_URL.format(
        code=agreement.verification_code)), tmp_path)
    assert "东苑社区人民调解委员会（人民调解委员会印）2026年9月3日" in signed


def test_two_parties_are_both_sides_and_an_unsigned_preview_leaves_the_date(city, tmp_path):
    agreement = ready_draft(city, settled_case(city))
    preview = _text(documents.agreement_pdf(agreement, draft=True), tmp_path)
    assert "本协议自双方当事人签名" in preview
    assert "双方当事人可以自本协议生效之日起三十日内" in preview
    assert "各方当事人" not in preview
    assert "（人民调解委员会印）年月日" in preview
    # One obligor: no liability to state.
    assert "义务人：李卫东；权利人：王建国；" in preview
    assert "连带" not in preview and "按份" not in preview


def _closing_pages(pages: list[str]) -> tuple[int, int, int]:
    flat = [_flat(page) for page in pages]

    def where(needle):
        found = [n for n, page in enumerate(flat) if needle in page]
        assert len(found) == 1, (needle, found)
        return found[0]

    return where("本协议一式"), where("当事人（签名盖章或按指印）：王建国"), \
        where("（人民调解委员会印）")


def test_the_last_clause_stays_on_the_page_of_the_signatures(city, tmp_path):
    """However long the facts, the closing clauses and the signatures share a page: the
    facts grow a line at a time until the closing has had to move to a new page."""
    paragraph = "2026年6月起，3号楼502室卫生间地面防水层老化渗漏，402室天花板多处出现水渍。"
    case = settled_case(city)
    agreement = ready_draft(city, case)
    moved = 0
    for lines in range(14, 30, 2):
        agreement.facts = "\n".join([paragraph] * lines)
        pages = _pages(documents.agreement_pdf(agreement), tmp_path)  # no watermark
        clause, signature, seal = _closing_pages(pages)
        assert clause == signature == seal, f"{lines} paragraphs: split closing"
        assert len(pages) == clause + 1
        if _flat(pages[clause]).startswith("履行方式、时限"):
            moved += 1  # the closing came over whole to a new page
        assert "此页无正文" not in _flat("".join(pages))
    assert moved, "the facts never pushed the closing to a new page: lengthen them"


def test_a_page_that_begins_with_signatures_says_it_has_no_text(city, tmp_path):
    """Fourteen parties' signature lines do not fit on a page with the closing clauses: the
    signatures' own page says at its top that it has no text, no other page does."""
    names = ["王建国", "李卫东", "周海燕", "吴国栋", "郑晓明", "冯丽娟", "陈志刚", "褚秀英",
             "卫东升", "蒋红梅", "沈建平", "韩雪梅", "杨立新", "朱桂兰"]
    case = settled_case(city, parties=[full_person(applicant, names[0])] + [
        full_person(respondent, name) for name in names[1:]])
    agreement = operations.start_draft(city.mediator, case)
    operations.update_draft(city.mediator, agreement, operations.DraftInput(
        facts=case.narrative, disputed_matters="漏水损失的赔偿。", copies=len(names) + 1,
        mediator=city.mediator, recorder_name="刘晓燕", inviting_court=None,
        concerns_status=False, determines_ownership=False,
        responsibilities={e.party_id: "按协议履行。" for e in agreement.parties}))
    operations.save_term(city.mediator, agreement, None, operations.TermInput(
        content="李卫东赔偿王建国天花板修复费用", obligor_id=agreement.parties[1].party_id,
        obligee_id=agreement.parties[0].party_id, amount="3800", method="银行转账",
        due_on=date(2026, 12, 31)))
    db.session.commit()
    pages = _pages(documents.agreement_pdf(agreement), tmp_path)  # no watermark
    clause, first_signature, seal = _closing_pages(pages)
    # The signatures and the seal stay together, on a page of their own.
    assert clause < first_signature == seal
    for n, page in enumerate(pages):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if n > clause:
            assert lines[0] == "（此页无正文）", page
        else:
            assert "此页无正文" not in _flat(page)
    assert "各方当事人可以" in _flat("".join(pages))


# ---- the rules of several obligors --------------------------------------------------------

def _by_shares(wang, tao, firm, **fields) -> operations.TermInput:
    values = {"content": BY_SHARES, "obligor_ids": [tao, firm], "obligee_ids": [wang],
              "liability": Liability.SEVERAL, "shares": {tao: "6000", firm: "3000"},
              "amount": "10000", "method": "现金", "due_on": date(2026, 11, 30)}
    values.update(fields)
    return operations.TermInput(**values)


UNCLEAR = [
    ("shares off the amount", lambda w, t, f: {}, "shares",
     "The shares add up to 9,000.00 yuan, not the term's amount of 10,000.00 yuan."),
    ("no liability", lambda w, t, f: {"liability": None, "shares": {}}, "liability",
     "liable jointly (连带, each for the whole) or by shares (按份)"),
    ("shares of no amount", lambda w, t, f: {"amount": None}, "amount",
     "Liability by shares divides the term's amount"),
    ("a share missing", lambda w, t, f: {"shares": {t: "10000"}}, "shares",
     "Give each obligor's share"),
    ("a share of an obligee", lambda w, t, f: {"shares": {t: "6000", f: "4000", w: "1"}},
     "shares", "not an obligor"),
    ("shares of joint obligors", lambda w, t, f: {"liability": Liability.JOINT}, "shares",
     "leave the shares empty"),
    ("the text binds two, the term one",
     lambda w, t, f: {"content": JOINT, "obligor_ids": [t], "liability": None, "shares": {}},
     "obligor_ids", "东营市安居物业管理有限公司"),
    ("on both sides", lambda w, t, f: {"obligee_ids": [w, t]}, "obligee_ids",
     "cannot owe itself"),
]


@pytest.mark.parametrize(("change", "field", "message"), [c[1:] for c in UNCLEAR],
                         ids=[c[0] for c in UNCLEAR])
def test_a_term_binding_several_parties_is_refused_when_unclear(city, change, field, message):
    agreement = _draft(city, _three_parties(city), terms=[])
    parties = [e.party_id for e in agreement.parties]
    with pytest.raises(OperationError) as refused, force_locale("en"):
        operations.save_term(city.mediator, agreement, None,
                             _by_shares(*parties, **change(*parties)))
    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert agreement.terms == []


def test_a_term_keeps_its_parties_when_edited_and_in_a_correction(city):
    agreement = _draft(city, _three_parties(city))
    wang, tao, firm = (e.party_id for e in agreement.parties)
    joint = agreement.terms[0]
    # Edited: the company pays alone, to 王喆 and 陶喆's household is no longer bound.
    operations.save_term(city.mediator, agreement, joint, operations.TermInput(
        content="东营市安居物业管理有限公司赔偿王喆房屋修复费用", obligor_ids=[firm],
        obligee_ids=[wang], liability=Liability.JOINT, amount="10000", method="银行转账",
        due_on=date(2026, 12, 31)))
    db.session.commit()
    assert [p.id for p in joint.obligors] == [firm] and joint.liability is None
    rows = db.session.scalars(select(TermParty).where(TermParty.term_id == joint.id)).all()
    assert {(r.party_id, r.side) for r in rows} == {(firm, TermSide.OBLIGOR),
                                                   (wang, TermSide.OBLIGEE)}

    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.commit()
    correction = operations.correct(city.mediator, agreement)
    db.session.commit()
    shares = correction.terms[1]
    assert shares.liability is Liability.SEVERAL
    assert [(link.party_id, link.share_fen) for link in shares.obligor_links] == [
        (tao, 600000), (firm, 400000)]
    assert [p.id for p in shares.obligees] == [wang]
    assert documents.term_details(shares) == documents.term_details(agreement.terms[1])


def test_an_existing_term_naming_one_of_two_stops_the_issue(city):
    """A term saved before the check (or moved over by the migration) that says two parties
    act together but binds one is a problem to fix before issuing."""
    agreement = _draft(city, _three_parties(city), terms=[])
    wang, tao, _firm = (e.party_id for e in agreement.parties)
    term = Term(agreement=agreement, position=0, content=JOINT, amount_fen=1000000,
                method="银行转账", due_on=date(2026, 12, 31),
                bound=[TermParty(party_id=tao, side=TermSide.OBLIGOR),
                       TermParty(party_id=wang, side=TermSide.OBLIGEE, position=1)])
    db.session.add(term)
    db.session.commit()
    with force_locale("en"):
        messages = [message for _field, message in operations.problems(agreement)]
    assert any("act together" in m and COMPANY in m for m in messages), messages


# ---- the builder's page --------------------------------------------------------------------

GRID = "370599001001-01"


@pytest.fixture
def demo_case(demo_city):
    mediator = user("mediator")
    found = make_case(mediator, grid=area(GRID), parties=[
        full_person(applicant, "王喆"),
        full_person(respondent, "陶喆", gender=Gender.FEMALE, phone="13905467788"),
        company()])
    walk_to(found, CaseState.IN_MEDIATION, mediator)
    found.handler = mediator
    if db.session.scalar(select(Court)) is None:
        db.session.add(Court(name="东湖区人民法院", area=area("370599")))
    db.session.commit()
    return found


def test_the_builder_binds_several_obligors_by_shares(demo_case, client):
    auth = Auth(client)
    assert auth.login("mediator").status_code == 302
    agreement = operations.start_draft(user("mediator"), demo_case)
    db.session.commit()
    wang, tao, firm = (e.party_id for e in agreement.parties)
    url = f"/agreements/{agreement.id}/terms/new"
    page = client.get(url).get_data(as_text=True)
    for party_id in (wang, tao, firm):  # a box per party on each side, and a share box
        assert f'name="obligor_ids" type="checkbox" value="{party_id}"' in page
        assert f'name="obligee_ids" type="checkbox" value="{party_id}"' in page
        assert f'name="share_{party_id}"' in page
    form = {"content": BY_SHARES, "obligor_ids": [str(tao), str(firm)],
            "obligee_ids": [str(wang)], "liability": "several", f"share_{tao}": "6000",
            f"share_{firm}": "3000", "amount": "10000", "method": "现金",
            "due_on": (today() + timedelta(days=60)).isoformat()}
    refused = auth.post(url, form)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "9,000.00" in body and "10,000.00" in body
    assert 'value="6000"' in body and 'value="3000"' in body  # what was typed stays
    assert db.session.scalar(select(Term).where(Term.agreement_id == agreement.id)) is None

    saved = auth.post(url, {**form, f"share_{firm}": "4000"})
    assert saved.status_code == 302
    db.session.expire_all()
    term = db.session.scalar(select(Term).where(Term.agreement_id == agreement.id))
    assert term.liability is Liability.SEVERAL
    assert [(p.party_id, p.share_fen) for p in term.obligor_links] == [(tao, 600000),
                                                                       (firm, 400000)]
    detail = client.get(f"/agreements/{agreement.id}").get_data(as_text=True)
    assert "陶喆（¥6,000.00）、东营市安居物业管理有限公司（¥4,000.00）" in detail
    # Editing shows what was chosen.
    edit = client.get(f"/agreements/terms/{term.id}/edit").get_data(as_text=True)
    assert re.search(rf'name="obligor_ids" type="checkbox" value="{firm}"[^>]*checked', edit) \
        or re.search(rf'checked[^>]*name="obligor_ids" type="checkbox" value="{firm}"', edit)
    assert re.search(rf'name="share_{firm}"[^>]*value="4000.00"', edit)


# ---- the API -----------------------------------------------------------------------------

def test_the_api_takes_several_obligors(demo_city, client):
    headers = bearer(cli_token(demo_city, "mediator"))
    body = case_body(parties=[
        person("applicant", "王喆"),
        person("respondent", "陶喆", gender="female", phone="13905467788"),
        person("respondent", "周堃", phone="13905460000")])
    case = post_ok(client, f"{API}/cases", headers, body, 201)
    post_ok(client, f"{API}/cases/{case['number']}/accept", headers)
    case = post_ok(client, f"{API}/cases/{case['number']}/start", headers)
    wang, tao, zhou = (p["id"] for p in case["parties"])
    due = (today() + timedelta(days=40)).isoformat()
    joint = {"content": "陶喆、周堃共同赔偿王喆修复费用", "obligor_ids": [tao, zhou],
             "obligee_ids": [wang], "liability": "joint", "amount": "10000",
             "method": "银行转账", "due_on": due}
    shares = {"content": "陶喆、周堃分别赔偿王喆误工费", "obligor_ids": [tao, zhou],
              "obligee_id": wang, "liability": "several", "amount": "10000",
              "shares": [{"party_id": tao, "amount": "6000"},
                         {"party_id": zhou, "amount": "4000"}],
              "method": "现金", "due_on": due}
    single = {"content": "周堃向王喆赔礼道歉", "obligor_id": zhou, "obligee_id": wang,
              "due_on": due}
    draft = {"disputed_matters": "漏水损失的赔偿数额。", "recorder_name": "刘晓燕",
             "copies": 4, "terms": [joint, shares, single]}
    url = f"{API}/cases/{case['number']}/agreements"

    off = {**shares, "shares": [{"party_id": tao, "amount": "6000"},
                                {"party_id": zhou, "amount": "3000"}]}
    refused = _problem(client.post(url, json={**draft, "terms": [off]}, headers=headers), 422)
    assert _fields(refused) == {"shares"}
    both = {**single, "obligor_ids": [zhou]}
    refused = _problem(client.post(url, json={**draft, "terms": [both]}, headers=headers), 422)
    assert _fields(refused) == {"terms.0.obligor_id"}
    one_of_two = {**joint, "obligor_ids": [tao], "liability": None}
    refused = _problem(client.post(url, json={**draft, "terms": [one_of_two]},
                                   headers=headers), 422)
    assert _fields(refused) == {"obligor_ids"} and "周堃" in refused["detail"]

    made = post_ok(client, url, headers, draft, 201)
    first, second, third = made["terms"]
    assert (first["obligor_ids"], first["obligee_ids"], first["liability"], first["shares"]) \
        == ([tao, zhou], [wang], "joint", [])
    assert second["liability"] == "several" and second["shares"] == [
        {"party_id": tao, "amount": "6000.00"}, {"party_id": zhou, "amount": "4000.00"}]
    assert (third["obligor_ids"], third["obligor_id"], third["obligee_id"],
            third["liability"]) == ([zhou], zhou, wang, None)


# ---- the migration -----------------------------------------------------------------------

MIGRATION = (Path(__file__).parent.parent / "migrations" / "versions"
             / "20261206_b1a0d17a0007_terms_several_obligors_obligees.py")


def _run_migration(step: str) -> None:
    """This revision's upgrade or downgrade alone, on the database as it is (the later
    revisions stay: they do not touch the terms)."""
    spec = importlib.util.spec_from_file_location("terms_several_parties", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    db.session.remove()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"target_metadata": db.metadata})
        with Operations.context(context):
            getattr(module, step)()
        connection.commit()


def test_the_migration_moves_each_terms_obligor_and_obligee(city):
    """Down to one obligor and one obligee column and up again: every term keeps its
    parties and its instalments; going down keeps the first of several."""
    agreement = _draft(city, _three_parties(city))
    wang, tao, firm = (e.party_id for e in agreement.parties)
    operations.save_term(city.mediator, agreement, None, operations.TermInput(
        content="王喆同意陶喆分两期支付", obligor_id=tao, obligee_id=wang, method="银行转账",
        instalments="2026-10-01 1000\n2026-11-01 1000"))
    db.session.commit()
    ids = [t.id for t in agreement.terms]
    _run_migration("downgrade")
    try:
        rows = db.session.execute(text(
            "SELECT id, obligor_id, obligee_id FROM agreement_terms ORDER BY position")).all()
        assert [tuple(r) for r in rows] == [(ids[0], tao, wang), (ids[1], tao, wang),
                                            (ids[2], firm, None), (ids[3], tao, wang)]
        assert db.session.scalar(text("SELECT count(*) FROM agreement_instalments")) == 2
        assert "agreement_term_parties" not in db.inspect(db.session.connection()).get_table_names()
        # A term with one obligor and one obligee, as the old code wrote it.
        db.session.execute(text("UPDATE agreement_terms SET obligee_id = :tao WHERE id = :id"),
                           {"tao": tao, "id": ids[2]})
        db.session.commit()
    finally:
        _run_migration("upgrade")
    moved = db.session.execute(text(
        "SELECT term_id, party_id, side, share_fen FROM agreement_term_parties "
        "ORDER BY term_id, position")).all()
    assert [tuple(r) for r in moved] == [
        (ids[0], tao, "obligor", None), (ids[0], wang, "obligee", None),
        (ids[1], tao, "obligor", None), (ids[1], wang, "obligee", None),
        (ids[2], firm, "obligor", None), (ids[2], tao, "obligee", None),
        (ids[3], tao, "obligor", None), (ids[3], wang, "obligee", None)]
    assert db.session.scalar(text("SELECT count(*) FROM agreement_instalments")) == 2
    assert db.session.scalar(text("SELECT count(*) FROM agreement_terms "
                                  "WHERE liability IS NOT NULL")) == 0
    term = db.session.get(Term, ids[3])
    assert [p.id for p in term.obligors] == [tao] and len(term.instalments) == 2
    columns = {c["name"] for c in
               db.inspect(db.session.connection()).get_columns("agreement_terms")}
    assert "liability" in columns and not columns & {"obligor_id", "obligee_id"}


def test_a_foreigner_and_a_company_jointly_liable_read_right_together(city, tmp_path):
    """The issue's whole case in one agreement: three parties, a joint term, a foreign
    party (a US passport holder) and an organisation."""
    case = settled_case(city, parties=[
        full_person(applicant, "王喆"),
        full_person(respondent, "John Smith", ethnicity=None, nationality="美国",
                    birth_date=date(1980, 5, 1), occupation="外籍教师", id_type="passport",
                    id_number="P12345678", phone="13905467788",
                    address="东营市东湖区东苑小区3号楼402室"),
        company()])
    agreement = operations.start_draft(city.mediator, case)
    wang, smith, firm = (e.party for e in agreement.parties)
    operations.update_draft(city.mediator, agreement, operations.DraftInput(
        facts=case.narrative, disputed_matters="漏水损失的赔偿数额及维修责任。", copies=4,
        mediator=city.mediator, recorder_name="刘晓燕", inviting_court=None,
        concerns_status=False, determines_ownership=False,
        responsibilities={wang.id: "无过错。", smith.id: "防水层老化未维修，负主要责任。",
                          firm.id: "未尽物业巡查义务，负次要责任。"}))
    content = "John Smith、东营市安居物业管理有限公司共同赔偿王喆房屋修复费用"
    operations.save_term(city.mediator, agreement, None, operations.TermInput(
        content=content, obligor_ids=[smith.id, firm.id], obligee_ids=[wang.id],
        liability=Liability.JOINT, amount="8000", method="银行转账",
        due_on=date(2026, 12, 31)))
    db.session.commit()
    assert operations.problems(agreement) == []
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.commit()
    text = _text(agreement.pdf, tmp_path)
    for line in [
        "当事人乙（被申请人）：JohnSmith，男，美国国籍，1980年5月1日出生，职业：外籍教师，",
        "护照号码（美国签发）：*****5678",
        f"一、{content}",
        "义务人：JohnSmith、东营市安居物业管理有限公司（连带责任）；权利人：王喆；"
        "金额：人民币8,000.00元",
        "各方当事人可以自本协议生效之日起三十日内",
        "当事人（盖章）：东营市安居物业管理有限公司法定代表人或委托代理人（签名）：",
    ]:
        assert _flat(line) in text, (line, text)
    smith_block = text[text.index("当事人乙"):text.index("当事人丙")]
    assert "族" not in smith_block
    assert "双方当事人" not in text


def test_a_party_name_in_a_share_label_stays_text(demo_case, client):
    """The share boxes are labelled with the parties' names (a lazy translation with a
    parameter): a name typed as markup is shown as text."""
    auth = Auth(client)
    assert auth.login("mediator").status_code == 302
    agreement = operations.start_draft(user("mediator"), demo_case)
    agreement.parties[1].party.name = '<img src=x onerror="alert(1)">陶喆'
    db.session.commit()
    page = client.get(f"/agreements/{agreement.id}/terms/new").get_data(as_text=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=" in page
