"""The agreement rules as pure functions: money and 大写 numerals, term numerals, agreement
numbers, a party's block, eligibility for judicial confirmation, the deadlines, masking."""

from datetime import date

import pytest

from mediation.agreements import rules
from mediation.agreements.models import Agreement, AgreementStatus, Instalment, Term
from mediation.areas.models import Committee
from mediation.areas.operations import check_number_pattern
from mediation.cases.models import Gender, Party, PartyKind, PartyRole
from mediation.core import calendar
from mediation.core.calendar import CalendarDay
from mediation.core.errors import OperationError
from mediation.core.identity import mask_name
from mediation.core.money import MAX_FEN, format_yuan, parse_yuan, rmb_capital
from mediation.extensions import db

needs_2026 = pytest.mark.skipif(not calendar.library_covers(2026),
                                reason="chinesecalendar lacks the 2026 schedule")




# ---- parsing what people type ------------------------------------------------------------

@pytest.mark.parametrize(("typed", "fen"), [
    ("3800", 380000),
    ("3800.5", 380050),
    ("3800.05", 380005),
    ("12,345.6", 1234560),
    ("12，345.60", 1234560),  # a full-width comma, as a Chinese keyboard types it
    ("12345.60元", 1234560),
    ("¥3,800.00", 380000),
    ("￥3800", 380000),
    ("人民币3800元", 380000),
    (" 3 800 ", 380000),
    ("0.01", 1),
    (".5", 50),
    ("99999999999999.99", MAX_FEN),
])
def test_amounts_as_people_type_them(english, typed, fen):
    assert parse_yuan(typed) == fen


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_no_amount_is_none(english, empty):
    assert parse_yuan(empty) is None


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "“abc” is not an amount in yuan"),
    ("3800元整整", "is not an amount in yuan"),
    ("12.3.4", "is not an amount in yuan"),
    ("NaN", "is not an amount in yuan"),
    ("Infinity", "is not an amount in yuan"),
    ("-5", "more than zero"),
    ("0", "more than zero"),
    ("0.00", "more than zero"),
    ("1.234", "at most two decimals"),
    ("0.001", "at most two decimals"),
    ("100000000000000", "too large"),
    ("1e30", "too large"),  # more digits than the decimal context holds: once a crash (500)
])
def test_amounts_that_are_not_sums_are_refused_with_a_clear_message(english, typed, message):
    with pytest.raises(OperationError, match=message) as refused:
        parse_yuan(typed, field="instalments")
    assert refused.value.field == "instalments"


def test_format_yuan():
    assert format_yuan(380000) == "3,800.00"
    assert format_yuan(1234560) == "12,345.60"
    assert format_yuan(5) == "0.05"
    assert format_yuan(100000000) == "1,000,000.00"
    assert format_yuan(None) == ""


# ---- 大写: the amount in capital numerals ------------------------------------------------

@pytest.mark.parametrize(("yuan", "capital"), [
    ("3800", "人民币叁仟捌佰元整"),
    ("10005", "人民币壹万零伍元整"),
    ("100000", "人民币壹拾万元整"),
    ("0.5", "人民币伍角"),
    ("10.05", "人民币壹拾元零伍分"),
    ("0.05", "人民币伍分"),
    ("1", "人民币壹元整"),
    ("10", "人民币壹拾元整"),  # 壹拾, never a bare 拾 (支付结算办法)
    ("16", "人民币壹拾陆元整"),
    ("1001", "人民币壹仟零壹元整"),
    ("1409.50", "人民币壹仟肆佰零玖元伍角"),
    ("6007.14", "人民币陆仟零柒元壹角肆分"),
    ("325.04", "人民币叁佰贰拾伍元零肆分"),
    ("12345.60", "人民币壹万贰仟叁佰肆拾伍元陆角"),
    ("100010", "人民币壹拾万零壹拾元整"),
    ("1000100", "人民币壹佰万零壹佰元整"),
    ("1010000", "人民币壹佰零壹万元整"),
    ("10000000", "人民币壹仟万元整"),
    ("100000000", "人民币壹亿元整"),
    ("100000001", "人民币壹亿零壹元整"),
    ("100010000", "人民币壹亿零壹万元整"),
    ("110000000", "人民币壹亿壹仟万元整"),
    ("1000000001", "人民币壹拾亿零壹元整"),
    ("1000000000000", "人民币壹万亿元整"),
    ("99999999999999.99",
     "人民币玖拾玖万亿玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
])
def test_capital_numerals(english, yuan, capital):
    assert rmb_capital(parse_yuan(yuan)) == capital


def test_capital_numerals_out_of_range():
    assert rmb_capital(0) == "人民币零元整"
    with pytest.raises(ValueError):
        rmb_capital(-1)
    with pytest.raises(ValueError):
        rmb_capital(MAX_FEN + 1)


def test_a_term_shows_its_amount_in_figures_and_capitals():
    term = Term(content="赔偿修复费用", amount_fen=380000)
    assert (term.amount_yuan, term.amount_capital) == ("3,800.00", "人民币叁仟捌佰元整")
    assert Term(content="修复防水层", amount_fen=None).amount_capital == ""


# ---- term numerals and dates --------------------------------------------------------------

@pytest.mark.parametrize(("n", "numeral"), [
    (1, "一"), (2, "二"), (9, "九"), (10, "十"), (11, "十一"), (12, "十二"), (19, "十九"),
    (20, "二十"), (21, "二十一"), (30, "三十"), (99, "九十九"),
])
def test_chinese_ordinal(n, numeral):
    assert rules.chinese_ordinal(n) == numeral


def test_chinese_date():
    assert rules.chinese_date(date(2026, 10, 8)) == "2026年10月8日"
    assert rules.chinese_date(None) == ""


# ---- agreement numbers ----------------------------------------------------------------------

def test_the_default_number(english):
    committee = Committee(name="东苑社区人民调解委员会", short_name="东苑社区")
    pattern = rules.number_pattern(committee)
    assert check_number_pattern(pattern) == pattern
    assert rules.format_number(pattern, year=2026, short_name="东苑社区", n=1) == \
        "（2026）东苑社区人调字第1号"
    assert rules.format_number(pattern, year=2027, short_name="东苑社区", n=12) == \
        "（2027）东苑社区人调字第12号"


def test_a_committee_numbers_its_own_way(english):
    committee = Committee(name="东苑社区人民调解委员会", short_name="东苑社区",
                          agreement_number_pattern="东人调〔{year}〕{n:03d}号")
    pattern = rules.number_pattern(committee)
    assert check_number_pattern(pattern) == pattern
    assert rules.format_number(pattern, year=2026, short_name="东苑社区", n=7) == \
        "东人调〔2026〕007号"


@pytest.mark.parametrize("pattern", [
    "（{year}）{short_name}人调字第号",  # no {n}: numbers would repeat
    "{short_name}人调字第{n}号",  # no {year}: the sequence restarts every year
    "（{year}）{committee}人调字第{n}号",  # an unknown field
    "（{year}）人调字第{0}号",  # positional
    "（{year}）人调字第{n号",  # unbalanced brace
    "（{{year}}）人调字第{n}号",  # escaped: no year at all
])
def test_a_number_pattern_without_year_and_n_is_refused(english, pattern):
    with pytest.raises(OperationError, match=r"needs \{year\} and \{n\}") as refused:
        check_number_pattern(pattern)
    assert refused.value.field == "agreement_number_pattern"


# ---- a party's block ------------------------------------------------------------------------

def _person(**fields) -> Party:
    details = {"gender": Gender.MALE, "ethnicity": "汉族", "birth_date": date(1975, 3, 8),
               "occupation": "职工", "phone": "13805461234", "address": "东苑小区3号楼502室"}
    details.update(fields)
    return Party(role=PartyRole.APPLICANT, kind=PartyKind.PERSON, name="王建国", **details)


def test_a_person_block_lists_what_the_law_asks(english):
    assert rules.missing_details(_person()) == []
    assert rules.missing_details(_person(ethnicity=None, occupation="")) == \
        ["ethnicity", "occupation"]
    assert rules.missing_details(_person(gender=None, birth_date=None, phone=None,
                                         address=None)) == \
        ["gender", "date of birth", "contact phone", "address or work unit"]


def test_an_organisation_block_lists_its_representative(english):
    company = Party(role=PartyRole.RESPONDENT, kind=PartyKind.ORGANISATION,
                    name="东营市安居物业管理有限公司", address="东湖区府前大街1号")
    assert rules.missing_details(company) == ["legal representative",
                                              "legal representative's title"]
    company.legal_representative, company.legal_representative_title = "孙建华", "总经理"
    assert rules.missing_details(company) == []


# ---- eligibility for judicial confirmation -------------------------------------------------

def _agreement(*terms: Term, disputed: str = "漏水损失的赔偿数额。", **fields) -> Agreement:
    values = {"status": AgreementStatus.ISSUED, "concerns_status": False,
              "determines_ownership": False, "facts": "", "disputed_matters": disputed}
    values.update(fields)
    return Agreement(terms=list(terms), **values)


def _term(content: str, amount_fen: int | None = 380000,
          due_on: date | None = date(2026, 12, 31), **fields) -> Term:
    return Term(content=content, amount_fen=amount_fen, due_on=due_on,
                on_the_spot=fields.pop("on_the_spot", False), **fields)


def test_a_definite_money_agreement_is_eligible(english):
    verdict = rules.eligibility(_agreement(_term("李卫东赔偿王建国天花板修复费用")))
    assert verdict.eligible
    assert verdict.refusals == [] and verdict.warnings == []


def test_a_divorce_is_refused_with_its_reason(english):
    verdict = rules.eligibility(_agreement(
        _term("双方自愿离婚", amount_fen=None), _term("王建国支付李卫东经济帮助金")))
    assert not verdict.eligible
    assert len(verdict.refusals) == 1
    assert "marriage" in verdict.refusals[0] and "status relationship" in verdict.refusals[0]
    assert "art. 355" in verdict.refusals[0]


@pytest.mark.parametrize(("wording", "reason"), [
    ("双方同意解除收养关系", "adoption"),
    ("王建国与王小明断绝父子关系", "parent"),
    ("确认东苑小区3号楼502室房屋归王建国所有", "who owns property"),
    ("该车辆所有权归李卫东", "who owns property"),
    ("确认涉案商标权归东营市安居物业管理有限公司", "intellectual-property"),
])
def test_status_and_ownership_subjects_are_refused(english, wording, reason):
    verdict = rules.eligibility(_agreement(_term(wording)))
    assert not verdict.eligible
    assert any(reason in refusal for refusal in verdict.refusals), verdict.refusals


def test_the_disputed_matters_count_too(english):
    verdict = rules.eligibility(_agreement(_term("王建国支付李卫东补偿款"),
                                           disputed="双方是否离婚及财产分割。"))
    assert not verdict.eligible and "marriage" in verdict.refusals[0]


def test_the_mediators_declaration_refuses_without_any_keyword(english):
    status = rules.eligibility(_agreement(_term("王建国支付李卫东补偿款"),
                                          concerns_status=True))
    assert not status.eligible and "status relationship" in status.refusals[0]
    ownership = rules.eligibility(_agreement(_term("王建国支付李卫东补偿款"),
                                             determines_ownership=True))
    assert not ownership.eligible and "ownership" in ownership.refusals[0]


def test_a_superseded_version_is_refused(english):
    verdict = rules.eligibility(_agreement(_term("王建国支付李卫东补偿款"),
                                           status=AgreementStatus.SUPERSEDED))
    assert not verdict.eligible and "superseded" in verdict.refusals[0]


def test_a_past_divorce_in_the_history_does_not_refuse_a_property_dispute(english):
    """The disputed matters tell what happened; the divorce is done, the money is the
    question: confirmable, with a note to check."""
    verdict = rules.eligibility(_agreement(
        _term("王建国于2026年12月31日前向李卫东支付存款分割款50000元"),
        disputed="双方于2023年协议离婚，现就离婚时未分割的银行存款发生争议。"))
    assert verdict.eligible, verdict.refusals
    assert any("marriage" in warning for warning in verdict.warnings)


def test_support_after_a_divorce_is_not_a_status_matter_but_is_flagged(english):
    """Child support after a divorce is an ordinary civil matter that courts confirm: the
    mention only asks the mediator to check."""
    verdict = rules.eligibility(_agreement(
        _term("王建国自2026年10月起每月支付女儿抚养费1500元"),
        disputed="双方离婚后女儿抚养费的数额及支付方式。"))
    assert verdict.eligible, verdict.refusals
    assert any("marriage" in warning for warning in verdict.warnings)


def test_money_kept_by_a_party_is_not_an_ownership_determination(english):
    verdict = rules.eligibility(_agreement(_term("王建国已交的押金3000元归李卫东所有")))
    assert verdict.eligible, verdict.refusals
    assert any("ownership" in warning for warning in verdict.warnings)


def test_vague_terms_are_flagged_but_not_refused(english):
    verdict = rules.eligibility(_agreement(
        _term("李卫东赔偿王建国天花板修复费用"),
        _term("李卫东修复卫生间防水层", amount_fen=None),
        _term("王建国配合李卫东入户施工", amount_fen=None, due_on=None),
        _term("李卫东当场赔礼道歉", amount_fen=None, due_on=None, on_the_spot=True),
        _term("李卫东分期支付误工费", amount_fen=200000, due_on=None,
              instalments=[Instalment(due_on=date(2026, 12, 1), amount_fen=100000),
                           Instalment(due_on=date(2027, 1, 1), amount_fen=100000)]),
        _term("李卫东赔偿王建国误工损失", amount_fen=None),
        _term("李卫东补足差额", amount_fen=None, method="银行转账"),
    ))
    assert verdict.eligible and verdict.refusals == []
    assert len(verdict.warnings) == 3, verdict.warnings
    no_amount = [w for w in verdict.warnings if "states no amount" in w]
    no_deadline = [w for w in verdict.warnings if "no deadline" in w]
    # Only the terms about money owe an amount: repairing, letting in the workers and an
    # apology do not (the method "银行转账" makes the seventh one a payment).
    assert [w.split()[1] for w in no_amount] == ["六", "七"]
    assert [w.split()[1] for w in no_deadline] == ["三"]
    assert all("art. 358" in w for w in verdict.warnings)


# ---- the 30 days to apply (CPL 85, 205) ------------------------------------------------------

@needs_2026
@pytest.mark.parametrize(("effective", "deadline"), [
    # Day 30 after 1 September is Thursday 1 October: National Day.  The State Council's
    # 2026 schedule gives 1–7 October off (7 days); Thursday 8 October is the first working
    # day after the holiday, so the deadline moves there.
    (date(2026, 9, 1), date(2026, 10, 8)),
    (date(2026, 9, 7), date(2026, 10, 8)),  # day 30 = Wed 7 October, the holiday's last day
    (date(2026, 9, 8), date(2026, 10, 8)),  # day 30 = Thu 8 October itself
    # Saturday 10 October is worked in lieu (调休上班): a working day, no roll.
    (date(2026, 9, 10), date(2026, 10, 10)),
    # Spring Festival: 15–23 February off; Tuesday 24 February is the next working day.
    (date(2026, 1, 16), date(2026, 2, 24)),
    # Labour Day: 1–5 May off; Wednesday 6 May.
    (date(2026, 4, 1), date(2026, 5, 6)),
    # An ordinary weekend: Saturday 7 February → Monday 9 February.
    (date(2026, 1, 8), date(2026, 2, 9)),
    # The start day does not count: 2 March + 30 days = Wednesday 1 April, a working day.
    (date(2026, 3, 2), date(2026, 4, 1)),
    # Sunday 4 January 2026 is worked in lieu of New Year's Day: no roll.
    (date(2025, 12, 5), date(2026, 1, 4)),
])
def test_confirmation_deadline_leaves_holidays(app, effective, deadline):
    assert rules.confirmation_deadline(effective) == deadline


@pytest.mark.skipif(calendar.library_covers(2031), reason="the library knows 2031 now")
def test_confirmation_deadline_follows_the_administrators_calendar(app):
    # 2031 is unknown to the library: weekends only.  Monday 3 March + 30 days is
    # Wednesday 2 April, a working day, until an administrator marks it a holiday.
    assert rules.confirmation_deadline(date(2031, 3, 3)) == date(2031, 4, 2)
    db.session.add(CalendarDay(day=date(2031, 4, 2), is_workday=False, name="测试假日"))
    db.session.commit()
    assert rules.confirmation_deadline(date(2031, 3, 3)) == date(2031, 4, 3)


# ---- two years to apply for enforcement (CPL 250) --------------------------------------------

@needs_2026
def test_enforcement_runs_from_the_last_day_set_for_performance(app):
    agreement = _agreement(_term("赔偿", due_on=date(2024, 8, 1)),
                           _term("修复", amount_fen=None, due_on=date(2024, 10, 1)))
    # Ruled before the last deadline: two years from 1 October 2024 end on National Day
    # 2026, rolled to Thursday 8 October.
    assert rules.enforcement_deadline(agreement, date(2024, 6, 1)) == date(2026, 10, 8)


@needs_2026
def test_enforcement_runs_from_the_ruling_when_the_deadlines_have_passed(app):
    agreement = _agreement(_term("赔偿", due_on=date(2024, 4, 1)))
    # 3 May 2026 falls in the Labour Day holiday (1–5 May): Wednesday 6 May.
    assert rules.enforcement_deadline(agreement, date(2024, 5, 3)) == date(2026, 5, 6)
    no_deadline = _agreement(_term("赔礼道歉", amount_fen=None, due_on=None))
    assert rules.enforcement_deadline(no_deadline, date(2024, 5, 3)) == date(2026, 5, 6)


@needs_2026
def test_enforcement_counts_the_last_instalment(app):
    agreement = _agreement(_term("分期支付", due_on=None, instalments=[
        Instalment(due_on=date(2024, 7, 1), amount_fen=190000),
        Instalment(due_on=date(2024, 10, 1), amount_fen=190000)]))
    assert rules.last_performance_day(agreement) == date(2024, 10, 1)
    assert rules.enforcement_deadline(agreement, date(2024, 6, 1)) == date(2026, 10, 8)


@needs_2026
def test_enforcement_from_a_leap_day(app):
    # 29 February 2024 + 2 years has no 29th: 28 February 2026, a Saturday worked in lieu
    # of the Spring Festival, so a working day.
    assert rules.enforcement_deadline(_agreement(), date(2024, 2, 29)) == date(2026, 2, 28)


# ---- the public page's names ---------------------------------------------------------------

@pytest.mark.parametrize(("name", "masked"), [
    ("王建国", "王**"),
    ("李红", "李*"),
    ("欧阳娜娜", "欧***"),
    ("王", "王"),
    ("", ""),
    (None, ""),
    ("阿依古丽·买买提", "阿*******"),
])
def test_mask_name_of_a_person(name, masked):
    assert mask_name(name) == masked


def test_mask_name_of_an_organisation_keeps_what_identifies_its_kind():
    assert mask_name("东营市安居物业管理有限公司", organisation=True) == "东营*********公司"
    assert mask_name("安居物业", organisation=True) == "安***"
