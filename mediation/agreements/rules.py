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


def missing_details(party: Party) -> list[str]:
    """The details the law wants in a party's block that the case does not hold yet."""
    wanted = PERSON_DETAILS if party.kind is PartyKind.PERSON else ORGANISATION_DETAILS
    return [str(label) for name, label in wanted.items() if not getattr(party, name)]


# ---- judicial confirmation: eligibility (CPL-Interp 355, 358) ---------------------------

# Matters a court will not accept for confirmation, found in the wording of the terms (what
# the court is asked to confirm).  Firm wording refuses; a mere mention (support after a
# divorce, a deposit that "归…所有") only asks the mediator to check and tick the box if it
# applies.
REFUSED_SUBJECTS = [
    (re.compile(r"自愿离婚|同意离婚|准予离婚|协议离婚|是否离婚|解除婚姻|确认婚姻|婚姻无效|"
                r"撤销婚姻|复婚"),
     _l("It confirms or dissolves a marriage: a status relationship, which judicial "
        "confirmation does not cover (CPL Interpretation art. 355).")),
    (re.compile(r"(解除|确认|成立|终止)收养"),
     _l("It concerns an adoption: a status relationship, which judicial confirmation does "
        "not cover (CPL Interpretation art. 355).")),
    (re.compile(r"(确认|否认)亲子关系|断绝.{0,4}关系"),
     _l("It concerns a parent–child relationship: a status relationship, which judicial "
        "confirmation does not cover (CPL Interpretation art. 355).")),
    (re.compile(r"所有权归|产权归属|确权|确认.{0,20}归.{1,12}所有"),
     _l("It determines who owns property: ownership is not decided by judicial confirmation "
        "(CPL Interpretation art. 355).")),
    (re.compile(r"(知识产权|专利权|商标权|著作权).{0,6}(归属|归)|确认.{0,20}(专利权|商标权|著作权)"),
     _l("It determines intellectual-property rights, which judicial confirmation does not "
        "decide (CPL Interpretation art. 355).")),
]
# The disputed matters tell the history ("双方于2023年协议离婚，现就存款发生争议" is a
# property dispute): only a status question still open there refuses.
REFUSED_QUESTIONS = [
    (re.compile(r"是否(离婚|复婚|解除婚姻)|确认婚姻|婚姻(是否)?无效"), REFUSED_SUBJECTS[0][1]),
    (re.compile(r"是否解除收养|(解除|确认)收养关系"), REFUSED_SUBJECTS[1][1]),
    (re.compile(r"(确认|否认)亲子关系|是否断绝"), REFUSED_SUBJECTS[2][1]),
]
MENTIONED_SUBJECTS = [
    (re.compile(r"离婚|结婚|婚姻|收养|亲子|父子|母子|父女|母女"),
     _l("The wording mentions marriage, adoption or parentage: if the agreement confirms or "
        "dissolves such a status relationship, a court will not confirm it — then tick the "
        "box in the draft.")),
    (re.compile(r"归.{1,12}所有|所有权|产权|知识产权|专利|商标|著作权"),
     _l("The wording mentions ownership: if the agreement determines who owns property or "
        "intellectual property, a court will not confirm it — then tick the box in the "
        "draft.")),
]


@dataclass
class Eligibility:
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.refusals


def eligibility(agreement) -> Eligibility:
    """Whether a court would accept the agreement for confirmation, with the reasons."""
    result = Eligibility()
    if agreement.concerns_status:
        result.refusals.append(_("The mediator marked it as concerning a status relationship "
                                 "(marriage, parent–child, adoption), which judicial "
                                 "confirmation does not cover (CPL Interpretation art. 355)."))
    if agreement.determines_ownership:
        result.refusals.append(_("The mediator marked it as determining ownership of property "
                                 "or intellectual property, which judicial confirmation does "
                                 "not decide (CPL Interpretation art. 355)."))
    terms = "\n".join(term.content for term in agreement.terms)
    disputed = agreement.disputed_matters or ""
    for text, patterns in ((terms, REFUSED_SUBJECTS), (disputed, REFUSED_QUESTIONS)):
        for pattern, reason in patterns:
            if pattern.search(text) and str(reason) not in result.refusals:
                result.refusals.append(str(reason))
    wording = disputed + "\n" + terms
    if not result.refusals:
        for pattern, reason in MENTIONED_SUBJECTS:
            if pattern.search(wording):
                result.warnings.append(str(reason))
    for index, term in enumerate(agreement.terms, start=1):
        label = chinese_ordinal(index)
        if term.amount_fen is None and not term.instalments:
            result.warnings.append(_("Term %(n)s states no amount: a court dismisses terms "
                                     "whose content is unclear (CPL Interpretation art. 358) — "
                                     "check that what is owed is definite.", n=label))
        if term.due_on is None and not term.instalments and not term.on_the_spot:
            result.warnings.append(_("Term %(n)s has no deadline for performance: a court "
                                     "dismisses terms whose content is unclear (CPL "
                                     "Interpretation art. 358).", n=label))
    if agreement.status.value == "superseded":
        result.refusals.append(_("This version has been superseded by a correction: apply "
                                 "with the version in force."))
    return result


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
