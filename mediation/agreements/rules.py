"""The rules around agreements, as data and pure functions: numbers, what a party's block
must hold, judicial-confirmation eligibility, the competent courts and the deadlines."""

import re
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from flask_babel import gettext as _

from mediation.cases.models import Party, PartyKind
from mediation.core.calendar import add_days, roll_to_working_day
from mediation.core.i18n import lazy_gettext as _l

DEFAULT_NUMBER_PATTERN = "（{year}）{short_name}人调字第{n}号"

CONFIRMATION_DAYS = 30  # PML 33, CPL 205: within 30 days of the agreement taking effect
ENFORCEMENT_YEARS = 2  # CPL 250


def number_pattern(committee) -> str:
    """The committee's own pattern, else the installation's (AGREEMENT_NUMBER_PATTERN)."""
    return (committee.agreement_number_pattern
            or current_app.config.get("AGREEMENT_NUMBER_PATTERN") or DEFAULT_NUMBER_PATTERN)


def format_number(pattern: str, *, year: int, short_name: str, n: int) -> str:
    return pattern.format(year=year, short_name=short_name, n=n)


# ---- a party's block (PML 29; MOJ-2002 art. 35) -----------------------------------------

PERSON_DETAILS = {
    "gender": _l("gender"), "ethnicity": _l("ethnicity"), "birth_date": _l("date of birth"),
    "occupation": _l("occupation"), "phone": _l("contact phone"),
    "address": _l("address or work unit"),
}
ORGANISATION_DETAILS = {
    "address": _l("address"), "legal_representative": _l("legal representative"),
    "legal_representative_title": _l("legal representative's title"),
}


def missing_fields(party: Party) -> list[str]:
    """The names of the details the law wants in a party's block that the case does not hold
    yet."""
    wanted = PERSON_DETAILS if party.kind is PartyKind.PERSON else ORGANISATION_DETAILS
    if party.is_foreign or party.home_region:
        # Foreigners have no ethnicity; Hong Kong, Macao and Taiwan residents' blocks say
        # where they live when none is given.
        wanted = {name: label for name, label in wanted.items() if name != "ethnicity"}
    return [name for name in wanted if not getattr(party, name)]


def missing_details(party: Party) -> list[str]:
    """The same details, named for the person reading."""
    labels = PERSON_DETAILS if party.kind is PartyKind.PERSON else ORGANISATION_DETAILS
    return [str(labels[name]) for name in missing_fields(party)]


# ---- judicial confirmation: eligibility (CPL-Interp 355, 358) ---------------------------

# Matters a court will not accept for confirmation, found in the wording of the terms (what
# the court is asked to confirm).  Firm wording refuses; a mere mention (support after a
# divorce, a deposit that "归…所有") only asks the mediator to check and tick the box if it
# applies.
MARRIAGE_REFUSAL = _l("It confirms or dissolves a marriage: a status relationship, which "
                      "judicial confirmation does not cover (CPL Interpretation art. 355).")
ADOPTION_REFUSAL = _l("It concerns an adoption: a status relationship, which judicial "
                      "confirmation does not cover (CPL Interpretation art. 355).")
PARENTAGE_REFUSAL = _l("It concerns a parent–child relationship: a status relationship, which "
                       "judicial confirmation does not cover (CPL Interpretation art. 355).")
OWNERSHIP_REFUSAL = _l("It determines who owns property: ownership is not decided by judicial "
                       "confirmation (CPL Interpretation art. 355).")
USE_RIGHT_REFUSAL = _l("It determines who holds a right to use land or a house (homestead, "
                       "contracted land, a house): rights in property are not determined by "
                       "judicial confirmation (CPL Interpretation art. 355).")
# "归" as in "goes to" (归王建国所有, 使用权归李卫东), not "归还" (giving back what was lent or
# owed: "将借用的房屋归还李卫东使用", "归还借款", "将钥匙归还王建国").
TO_WHOM = "归(?!还)"
REFUSED_SUBJECTS = [
    # Ending (or restoring, or confirming) a marriage, however it is worded.
    (re.compile(r"自愿离婚|同意离婚|准予离婚|是否离婚|办理离婚|离婚登记|"
                r"(解除|终止|结束)(婚姻|夫妻)|确认婚姻|婚姻无效|撤销婚姻|复婚"),
     MARRIAGE_REFUSAL),
    (re.compile(r"(解除|确认|成立|终止)收养"), ADOPTION_REFUSAL),
    (re.compile(r"(确认|否认)亲子关系|断绝.{0,4}关系"), PARENTAGE_REFUSAL),
    (re.compile(rf"所有权{TO_WHOM}|产权归属|确权|确认.{{0,20}}{TO_WHOM}.{{1,12}}所有"),
     OWNERSHIP_REFUSAL),
    # Use rights decided like ownership: "确认…归…使用", "…使用权归…", "该宅基地归…使用",
    # "确认王建国享有…宅基地使用权" (but not giving back what was lent: "将借用的房屋归还
    # 李卫东使用").
    (re.compile(rf"(使用权|承包经营权|经营权|承包权|居住权)({TO_WHOM}|属于|由)|"
                rf"确认.{{0,30}}{TO_WHOM}.{{1,12}}(使用|承包|经营|居住)|"
                rf"(宅基地|承包地|自留地|责任田|土地|地块|房屋|院落).{{0,12}}{TO_WHOM}.{{1,12}}"
                r"(使用|承包|经营|居住)|"
                r"(确认|享有).{0,20}(宅基地使用权|土地承包经营权|房屋使用权|土地使用权|"
                r"建设用地使用权|林地使用权|承包经营权|居住权)"),
     USE_RIGHT_REFUSAL),
    (re.compile(rf"(知识产权|专利权|商标权|著作权).{{0,6}}(归属|{TO_WHOM})|"
                r"确认.{0,20}(专利权|商标权|著作权)"),
     _l("It determines intellectual-property rights, which judicial confirmation does not "
        "decide (CPL Interpretation art. 355).")),
]
# A bare "离婚" in a term ends the marriage ("王建国与李卫东离婚，女儿由李卫东抚养") unless
# the wording places the divorce in the past, as the ground of what is owed now: "离婚后子女
# 抚养费由王建国每月支付1500元", "按离婚协议约定", "双方已于2023年离婚".  Support, property
# and visits after a divorce are ordinary civil matters that courts confirm, so those
# wordings are taken out before looking for "离婚" (the mention still asks the mediator to
# check, below).  A term that both ends the marriage and speaks of afterwards ("双方同意离婚，
# 离婚后女儿由…抚养") is still refused by the firm wording above, which is looked for first.
PAST_DIVORCE = re.compile(r"(?<!签订)(?<!签署)(?<!达成)离婚(以后|之后|后|时|前|协议|判决|"
                          r"调解书|证|当时|多年)|(已经|已|曾)[^，。；,;\n]{0,15}离婚|离婚了|离异")
ENDS_MARRIAGE = [(re.compile(r"离婚"), MARRIAGE_REFUSAL)]
# The disputed matters tell the history ("双方于2023年协议离婚，现就存款发生争议" is a
# property dispute): only a status question still open there refuses.
REFUSED_QUESTIONS = [
    (re.compile(r"是否(离婚|复婚|解除(婚姻|夫妻))|确认婚姻|婚姻(是否)?无效"), MARRIAGE_REFUSAL),
    (re.compile(r"是否解除收养|(解除|确认)收养关系"), ADOPTION_REFUSAL),
    (re.compile(r"(确认|否认)亲子关系|是否断绝"), PARENTAGE_REFUSAL),
]
MENTIONED_SUBJECTS = [
    (re.compile(r"离婚|结婚|婚姻|夫妻|收养|亲子|父子|母子|父女|母女"),
     _l("The wording mentions marriage, adoption or parentage: if the agreement confirms or "
        "dissolves such a status relationship, a court will not confirm it — then tick the "
        "box in the draft.")),
    (re.compile(rf"{TO_WHOM}.{{1,12}}所有|所有权|产权|知识产权|专利|商标|著作权"),
     _l("The wording mentions ownership: if the agreement determines who owns property or "
        "intellectual property, a court will not confirm it — then tick the box in the "
        "draft.")),
    (re.compile(r"使用权|承包经营权|宅基地|承包地|居住权"),
     _l("The wording mentions a right to use land or a house: if the agreement determines "
        "who holds it, a court will not confirm it — then tick the ownership box in the "
        "draft.")),
]
# What makes a term one about paying money, in its content or its method of performance:
# only such a term needs an amount ("陶喆拆除围墙", "赔礼道歉" owe none).
MONEY_WORDING = re.compile(
    r"支付|赔偿|偿还|补偿|给付|垫付|付清|付款|缴纳|交纳|(?<!条)款|费|"
    r"(押|定|订|违约|保证|赔偿|补偿|租|本|现|资|奖|抚恤|慰问|礼)金|利息|工资|报酬|薪|"
    r"[借欠还赔付给]钱|[0-9０-９〇零一二两三四五六七八九十百千万亿]元|人民币|转账|汇款|现金")


def is_about_money(term) -> bool:
    """Whether the term pays money (its wording says so, or it is paid in instalments)."""
    return bool(term.instalments) or bool(
        MONEY_WORDING.search(f"{term.content or ''}\n{term.method or ''}"))


@dataclass
class Eligibility:
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.refusals


def refusals(agreement) -> list[str]:
    """Why a court would not accept the agreement for confirmation (none: it may apply)."""
    found = []
    if agreement.concerns_status:
        found.append(_("The mediator marked it as concerning a status relationship "
                       "(marriage, parent–child, adoption), which judicial "
                       "confirmation does not cover (CPL Interpretation art. 355)."))
    if agreement.determines_ownership:
        found.append(_("The mediator marked it as determining ownership of property "
                       "or intellectual property, which judicial confirmation does "
                       "not decide (CPL Interpretation art. 355)."))
    terms = "\n".join(term.content for term in agreement.terms)
    disputed = agreement.disputed_matters or ""
    for text, patterns in ((terms, REFUSED_SUBJECTS), (PAST_DIVORCE.sub("", terms),
                                                       ENDS_MARRIAGE),
                           (disputed, REFUSED_QUESTIONS)):
        for pattern, reason in patterns:
            if pattern.search(text) and str(reason) not in found:
                found.append(str(reason))
    if agreement.status.value == "superseded":
        found.append(_("This version has been superseded by a correction: apply "
                       "with the version in force."))
    return found


def eligibility(agreement) -> Eligibility:
    """Whether a court would accept the agreement for confirmation, with the reasons, and
    what to check before applying."""
    result = Eligibility(refusals=refusals(agreement))
    wording = (agreement.disputed_matters or "") + "\n" + "\n".join(
        term.content for term in agreement.terms)
    if not result.refusals:
        for pattern, reason in MENTIONED_SUBJECTS:
            if pattern.search(wording):
                result.warnings.append(str(reason))
    for index, term in enumerate(agreement.terms, start=1):
        label = chinese_ordinal(index)
        if term.amount_fen is None and not term.instalments and is_about_money(term):
            result.warnings.append(_("Term %(n)s states no amount: a court dismisses terms "
                                     "whose content is unclear (CPL Interpretation art. 358) — "
                                     "check that what is owed is definite.", n=label))
        if term.due_on is None and not term.instalments and not term.on_the_spot:
            result.warnings.append(_("Term %(n)s has no deadline for performance: a court "
                                     "dismisses terms whose content is unclear (CPL "
                                     "Interpretation art. 358).", n=label))
    return result


# ---- the application (司法确认申请书) ------------------------------------------------------

# The cause (案由) a court files the application under, by dispute category: the names of
# the Supreme People's Court's 民事案件案由规定 where the statistics category maps onto one.
# A category not listed (an administrator's own, or a statistics category of its own kind)
# reads as its name followed by 纠纷; an everyday category falls back on the statistics
# category it counts under (``report_as``).
CAUSES = {
    "marriage_family": "婚姻家庭纠纷",
    "neighbour": "相邻关系纠纷",
    "housing_homestead": "房屋、宅基地纠纷",
    "contract": "合同纠纷",
    "business": "生产经营纠纷",
    "damages": "损害赔偿纠纷",
    "forest_land": "山林土地纠纷",
    "land_demolition": "征地拆迁纠纷",
    "pollution": "环境污染责任纠纷",
    "labour": "劳动争议",
    "consumer": "消费者权益纠纷",
    "medical": "医疗损害责任纠纷",
    "traffic": "机动车交通事故责任纠纷",
    "property_management": "物业服务合同纠纷",
    "tourism": "旅游合同纠纷",
    "ip": "知识产权纠纷",
    "internet": "网络侵权责任纠纷",
    "noise": "相邻关系纠纷",
    "water_leak": "相邻关系纠纷",
    "thrown_objects": "高空抛物、坠物损害责任纠纷",
    "wage_arrears": "追索劳动报酬纠纷",
    "other": "民事纠纷",
}


def cause_of_action(category) -> str:
    """The application's cause (案由), from the case's category, never its title."""
    for code in (category.code, category.report_as):
        if code in CAUSES:
            return CAUSES[code]
    name = category.name.strip()
    return name if name.endswith(("纠纷", "争议")) else f"{name}纠纷"


# ---- deadlines --------------------------------------------------------------------------

def confirmation_deadline(effective_on: date) -> date:
    """The last day to apply: 30 days, the start day not counted, out of holidays (CPL 85)."""
    return roll_to_working_day(add_days(effective_on, CONFIRMATION_DAYS, working=False))


def last_performance_day(agreement) -> date | None:
    days = [term.due_on for term in agreement.terms if term.due_on] + \
        [i.due_on for term in agreement.terms for i in term.instalments]
    return max(days, default=None)


def enforcement_deadline(agreement, ruled_on: date) -> date:
    """Two years to apply for enforcement (CPL 250), from the last day set for performance,
    or from the ruling when that day has passed or none is set."""
    start = max(filter(None, [ruled_on, last_performance_day(agreement)]))
    try:
        end = start.replace(year=start.year + ENFORCEMENT_YEARS)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + ENFORCEMENT_YEARS, day=28)
    return roll_to_working_day(end)


# ---- numerals ---------------------------------------------------------------------------

CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 21 → 二十一 (for terms up to 99)."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (CHINESE_DIGITS[tens] if tens > 1 else "") + "十" + (CHINESE_DIGITS[ones] if ones
                                                                else "")


def chinese_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def overdue_parts(term, on: date) -> list[date]:
    """The due days of a term (its deadline, or its unpaid instalments) that have passed
    unperformed."""
    if term.performed_on is not None:
        return []
    if term.instalments:
        return [i.due_on for i in term.instalments if i.paid_on is None and i.due_on < on]
    return [term.due_on] if term.due_on and term.due_on < on else []
