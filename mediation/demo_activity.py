"""What the demo city's people did around its cases, for ``flask seed-demo``: mediation
sessions (调解会议) in the centres' rooms and on site — the held ones with attendance and
minutes, the coming ones in the next three weeks, a few answered by the parties on the
portal —, written agreements in every stage (draft, issued awaiting signature, in force,
with a court, confirmed, dismissed, one with an instalment overdue), the parties'
ratings of the service (满意度评价), and some disputes residents reported themselves on the
portal (居民线上申请).

It extends the cases' demo (``mediation.cases.demo``), whose planner lays out each case's
steps and whose player plays them through the operations: ``LivingPlanner`` adds steps to
the cases' plans, ``LivingPlayer`` plays them through the sessions', agreements' and
portal's operations and moves what they stamped with the real clock back to the step's
moment, as it does for the cases.  Where an operation would take today's date for the
record, it is given the step's day (an agreement is issued ``on`` it, so numbered in that
day's year): the history holds whatever day the seed runs, in January too.  Deterministic
like the cases' demo.  Issuing an agreement renders its PDF (about a second each): only
eight are issued.
"""

import random
import re
from collections import Counter
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from mediation.agreements import operations as agreement_ops
from mediation.agreements.models import (
    Agreement,
    ConfirmationResult,
    JudicialConfirmation,
    SignMethod,
)
from mediation.agreements.rules import chinese_ordinal
from mediation.areas.models import AreaKind, AreaNode, Centre, Court, Room
from mediation.cases import access, rules
from mediation.cases.demo import (
    COMMUNITY_MEDIATOR,
    PARTLY,
    Planner,
    Player,
    Spec,
    Step,
    seed_cases,
)
from mediation.cases.models import AssignmentRole, Case, PartyKind, PartyRole
from mediation.cases.states import OPEN_STATES, CaseState, Level, Source
from mediation.core.calendar import is_working_day
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.portal import operations as portal_ops
from mediation.portal.models import Rating, Satisfaction
from mediation.portal.reports import ReportInput, report_dispute
from mediation.sessions import operations as session_ops
from mediation.sessions.minutes import Minutes, MinutesOutcome, save_minutes
from mediation.sessions.models import (
    Attendance,
    MediationSession,
    Participant,
    ParticipantRole,
    PlaceKind,
    Reply,
)
from mediation.sessions.reminders import NOTICE, Channel, OutboxMessage, OutboxStatus
from mediation.users.models import User

S = CaseState
LOCAL = rules.LOCAL
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

# ---- sessions ---------------------------------------------------------------------------

# How likely a case mediated at a level met in sessions there, and how many.
SESSION_ODDS = {Level.GRID: (0.15, 1), Level.COMMUNITY: (0.6, 2), Level.STREET: (0.9, 3)}
# How likely an open case has its next session booked (in the next three weeks), and a
# session already held.
UPCOMING_ODDS = {S.IN_MEDIATION: 0.95, S.ACCEPTED: 0.5}
HELD_BEFORE_ODDS = 0.4
UPCOMING_DAYS = 20
FIRST_DAY_SESSIONS = 3
REPLY_ODDS = 0.45
ABSENT_ODDS = 0.12
DISTRICT_ODDS = 0.35
SMALL_ROOM = 6  # seats: a room this small (the video room) is taken when the others are not
START_TIMES = [time(9), time(9, 30), time(14, 30), time(10), time(14), time(15), time(8, 30),
               time(10, 30), time(15, 30)]
LENGTHS = [timedelta(minutes=90), timedelta(hours=2), timedelta(hours=1)]

PURPOSE_FIRST = "第一次调解：听取双方陈述，核实争议事实"
PURPOSE_NEXT = "第{n}次调解：就责任承担和具体方案继续协商"
PURPOSE_ONLY = "组织双方面对面调解"
PURPOSE_SIGN = "宣读并签署人民调解协议书"
PURPOSE_STREET = "联合调解（司法所、派出所参加）："
OPENING = ("调解员告知各方当事人人民调解的性质、原则和效力，以及当事人在调解活动中享有的权利和"
           "承担的义务，各方表示清楚，同意接受调解。")
STATEMENTS = ("申请人{a}陈述了纠纷经过及调解请求；被申请人{b}陈述了意见。调解员就争议事实逐项"
              "核实，并向双方释明相关法律规定。")
MINUTES_ENDS = {
    MinutesOutcome.SETTLED: "经调解员耐心疏导，双方互谅互让，自愿达成如下协议：{terms}",
    MinutesOutcome.PARTLY: PARTLY,
    MinutesOutcome.FAILED: "双方对责任承担和赔偿数额分歧较大，经反复做工作仍未能达成一致，本次调解"
                           "终止。调解员已告知当事人可以依法通过仲裁、行政或者司法等途径维护自己的"
                           "权利。",
    MinutesOutcome.ADJOURNED: "双方在主要问题上有所接近，但对具体数额和履行方式仍有分歧。双方同意于"
                              "{next}继续调解，其间各自准备相关证据材料。",
}
ABSENT = ("被申请人{b}经通知未到场，本次调解未能进行实质协商。调解员将再次联系{b}，约定于{next}"
          "继续调解。")
# What the parties answer on the portal to the coming sessions' notices, in turn.
REPLIES = [
    [(PartyRole.APPLICANT, Reply.CONFIRMED, None)],
    [(PartyRole.APPLICANT, Reply.CONFIRMED, None), (PartyRole.RESPONDENT, Reply.CONFIRMED, None)],
    [(PartyRole.RESPONDENT, Reply.OTHER_TIME,
      "那天上午要带老人去医院复查，能不能改到下午或者第二天？")],
    [(PartyRole.APPLICANT, Reply.CONFIRMED, None)],
    [(PartyRole.RESPONDENT, Reply.DECLINED,
      "本人在外地务工，赶不回来，想委托家里人参加，请调解员联系我。")],
    [(PartyRole.APPLICANT, Reply.CONFIRMED, None), (PartyRole.RESPONDENT, Reply.CONFIRMED, None)],
]

# ---- agreements -------------------------------------------------------------------------

# Stage, the final states it fits, whether in 文苑社区 (the demo mediator's community), and
# how many days ago it was issued.
AGREEMENT_STAGES = [
    ("draft", {S.IN_MEDIATION}, True, None),
    ("draft", {S.IN_MEDIATION}, False, None),
    ("awaiting", {S.SETTLED}, True, 3),
    ("in_force", {S.FOLLOW_UP}, True, 26),
    ("in_force", {S.SETTLED, S.FOLLOW_UP}, False, 12),
    ("pending", {S.SETTLED, S.FOLLOW_UP}, False, 20),
    ("confirmed", {S.FOLLOW_UP, S.CLOSED}, True, 62),
    ("confirmed", {S.CLOSED, S.FOLLOW_UP}, False, 95),
    ("dismissed", {S.FOLLOW_UP, S.CLOSED}, False, 48),
    ("overdue", {S.FOLLOW_UP, S.SETTLED}, False, 70),
]
# Disputes over money whose terms a court confirms (no ownership, no status relationship).
AGREEMENT_CATEGORIES = {"water_leak", "damages", "pets", "contract", "consumer", "internet",
                        "tourism", "thrown_objects", "property_management", "labour",
                        "traffic", "wage_arrears", "neighbour", "business", "medical", "ip"}
# The deadline a term's wording gives, longest wording first ("三十日" holds "十日").
DEADLINES = [("六个月", 180), ("一个月", 30), ("三十日", 30), ("二十日", 20), ("十五日", 15),
             ("十日", 10), ("七日", 7), ("五日", 5), ("三日", 3), ("当场", 0)]
DISPUTED = "{b}应否承担责任，以及赔偿（补偿）的数额、方式和期限。"
RESPONSIBILITY = {
    PartyRole.APPLICANT: "如实陈述纠纷经过，在对方按约履行后不再就本纠纷主张其他权利。",
    PartyRole.RESPONDENT: "对纠纷的发生负有责任，自愿按本协议约定履行。",
}
OVERDUE_TERM = "{b}向{a}支付{pay}元，分三期付清。"
DISMISSAL = ("经审查，调解协议第一项约定的履行内容与当事人陈述不一致、内容不明确，依照"
             "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第三百五十八条，裁定驳回"
             "申请。")

# ---- residents' own reports --------------------------------------------------------------

# Disputes a grid worker would have taken in that residents reported themselves on the portal
# (居民线上申请): one every RESIDENT_EVERY months of the history, and one of each open kind.
RESIDENT_EVERY = 2
RESIDENT_OPEN = [(S.REPORTED,), (S.ACCEPTED, S.IN_MEDIATION)]
RESIDENT_SOURCES = (Source.GRID_PATROL, Source.HOTLINE, Source.PARTY_APPLICATION)
# Their own random numbers: the rest of the plan draws exactly as without them.
RESIDENT_SEED = 1213
# How the residents end what they write.
REPORT_ENDINGS = ["希望社区帮忙调解。", "请网格员帮忙协调一下，谢谢！",
                  "多次沟通没有结果，申请调解。", "希望尽快处理。"]

# ---- ratings ----------------------------------------------------------------------------

RATING_ODDS = {S.SETTLED: 0.45, S.PARTLY_SETTLED: 0.45, S.FAILED: 0.45}
OTHER_RATING_ODDS = 0.2
SATISFACTION_WEIGHTS = {  # satisfied, fairly satisfied, not satisfied
    S.SETTLED: (76, 20, 4), S.PARTLY_SETTLED: (45, 42, 13), S.FAILED: (18, 42, 40),
}
OTHER_WEIGHTS = (40, 40, 20)
COMMENT_ODDS = 0.3
COMMENTS = {
    Satisfaction.SATISFIED: ["调解员很耐心，问题解决得很及时，谢谢！",
                             "网格员跑了好几趟，邻里关系也缓和了。",
                             "不用跑法院就解决了，办事效率高。",
                             "调解员把法律讲得很清楚，我们都服气。"],
    Satisfaction.FAIRLY: ["问题基本解决了，就是时间拖得有点长。",
                          "结果还可以，希望以后多回访。",
                          "对方还有一部分没履行，希望继续督促。"],
    Satisfaction.UNSATISFIED: ["对方一直不配合，调解没什么效果。",
                               "等了好几天才有人联系我。",
                               "觉得调解结果对我不太公平。"],
}


def _at(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(), tzinfo=LOCAL) + timedelta(hours=hour)


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


def _final_level(spec: Spec) -> Level:
    return spec.mid_to or spec.intake_target or spec.start_level


def _respondent_pays(terms: str) -> bool:
    """Whether the scenario's wording has the respondent pay the amount to the applicant
    (the term's obligor and obligee): not the applicant paying, nor a fund, nor something
    going to someone (归…: ownership, which no court confirms)."""
    if re.search("归(?!还)", terms):
        return False
    if "{pay}" not in terms:
        return False
    clause = next(c for c in re.split("[，,；。]", terms) if "{pay}" in c)
    return "{b}" in terms[:terms.index("{pay}")] and not clause.startswith("{a}")


def _deadline_days(terms: str) -> int | None:
    """Days from signing the wording gives for performance (0: on the spot), if any."""
    return next((days for words, days in DEADLINES if words in terms), None)


class LivingPlanner(Planner):
    """The cases' planner, with sessions, agreements, replies and ratings in the plans."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.working: dict[date, bool] = {}
        self.replies = 0
        # The streets with a centre of their own, whose calendar a newcomer opens first: its
        # first sessions fall on the first coming day.
        self.centre_streets = set(db.session.scalars(
            select(Centre.area_id).join(Centre.area).where(AreaNode.kind == AreaKind.STREET)))
        self.first_day_left = FIRST_DAY_SESSIONS

    def is_working(self, day: date) -> bool:
        if day not in self.working:
            self.working[day] = is_working_day(day)
        return self.working[day]

    def plan(self, target: int) -> list[Spec]:
        specs = super().plan(target)
        self.residents(specs)
        # The coming working days with two office hours or more left in them.
        coming = [d for d in (self.today + timedelta(days=n) for n in range(UPCOMING_DAYS + 1))
                  if self.is_working(d)
                  and _at(d, 17.5) - max(_at(d, 8.5), self.now + 2 * HOUR) >= 2 * HOUR]
        for spec in specs:
            self.sessions(spec, coming)
            self.rating(spec)
            spec.steps = self.fit(spec.steps)
        return specs

    # -- residents' own reports -----------------------------------------------------------

    def residents(self, specs: list[Spec]) -> None:
        """Some disputes a grid worker took in were residents' own reports on the portal
        instead, then worked alike: one in every other month of the history, one being
        worked now and one waiting to be accepted."""
        rng = random.Random(RESIDENT_SEED)
        fitting = [s for s in specs if self.fits_report(s)]
        chosen = []
        for first in self.months()[::RESIDENT_EVERY]:
            month = [s for s in fitting if s.final not in OPEN_STATES
                     and rules.local_date(s.steps[0].when).replace(day=1) == first]
            if month:
                chosen.append(rng.choice(month))
        for finals in RESIDENT_OPEN:
            waiting = [s for s in fitting if s.final in finals]
            if waiting:
                chosen.append(rng.choice(waiting))
        left = Counter(s.source for s in specs)
        for spec in chosen:
            if left[spec.source] < 2:  # every channel staff register still appears
                continue
            left[spec.source] -= 1
            spec.source, spec.reporter = Source.RESIDENT_REPORT, ""
            spec.extras["report"] = {"ending": rng.choice(REPORT_ENDINGS),
                                     "other_phone": rng.random() < 0.5}

    def fits_report(self, spec: Spec) -> bool:
        """What the portal's form says all about: a grid's dispute of an adult with one other
        person (a third party only in a report still waiting: staff add them when they take
        the case up), none of the risks the form does not ask about, nothing the rules send
        up at intake, and no written agreement (a resident gives no ID numbers)."""
        people = [p.data for p in spec.parties]
        named, others = people[:2], people[2:]
        report_year = rules.local_date(spec.steps[0].when).year
        limit = self.limits.get(Level.GRID)
        return (spec.source in RESIDENT_SOURCES and spec.start_level is Level.GRID
                and not spec.intake and not any(spec.risks.values())
                and (spec.amount is None or limit is None or spec.amount * 100 <= limit)
                and [p.role for p in named] == [PartyRole.APPLICANT, PartyRole.RESPONDENT]
                and all(p.kind is PartyKind.PERSON for p in named)
                and named[0].birth_date is not None
                and named[0].birth_date.year < report_year - 18
                and (not others or spec.final is S.REPORTED)
                and all(p.role is PartyRole.THIRD_PARTY for p in others)
                and len({p.community.id for p in people if p.community}) <= 1
                and "agreement" not in spec.extras)

    # -- agreements -----------------------------------------------------------------------

    def assign_extras(self, specs: list[Spec]) -> None:
        super().assign_extras(specs)
        taken: set[int] = set()
        for stage, finals, wenyuan, days_ago in AGREEMENT_STAGES:
            pool = [s for s in specs if id(s) not in taken and s.final in finals
                    and self.fits_agreement(s, stage)]
            pool.sort(key=lambda s: (s.community.name == "文苑社区") is not wenyuan)
            if pool:
                pool[0].extras["agreement"] = (stage, days_ago)
                taken.add(id(pool[0]))

    def fits_agreement(self, spec: Spec, stage: str) -> bool:
        """Two parties, one paying the other, a confirmable kind of dispute, mediated to the
        end."""
        roles = sorted(p.data.role.value for p in spec.parties)
        return (spec.reach is S.IN_MEDIATION and spec.pay is not None
                and roles == [PartyRole.APPLICANT.value, PartyRole.RESPONDENT.value]
                and spec.category.code in AGREEMENT_CATEGORIES
                and _respondent_pays(spec.scenario["terms"])
                and (stage == "draft" or spec.outcome is S.SETTLED))

    def timeline(self, spec: Spec) -> None:
        super().timeline(spec)
        if "agreement" in spec.extras:
            self.agreement_steps(spec, *spec.extras["agreement"])

    def agreement_steps(self, spec: Spec, stage: str, days_ago: int | None) -> None:
        """The written agreement replaces the outcome (issuing it settles the case), on the
        day its stage wants, then its signatures, performance and court."""
        rng, steps = self.rng, spec.steps
        # The wording's deadline (the scenario's terms; its words are filled in later).
        days = _deadline_days(spec.scenario["terms"])
        due = spec.extras["due"] = None if stage == "overdue" else 15 if days is None else days
        if stage == "draft":
            last = steps[-1].when
            steps.append(Step(last + (self.now - last) * rng.uniform(0.3, 0.7), "agreement",
                              {"stage": stage}))
            spec.steps = self.fit(steps)
            return
        outcome = next(s for s in steps if s.action == "outcome")
        outcome.action, outcome.args = "agreement", {"stage": stage}
        # Issued on that day, numbered in that day's year (in January, often last year's).
        issued = self.today - timedelta(days=days_ago)
        shift = timedelta(days=(issued - rules.local_date(outcome.when)).days)
        for step in steps:
            step.when += shift

        def on(offset: int, hour: float, after: Step, action: str, **args) -> Step:
            """A step ``offset`` days after the issue (not after today), after ``after``."""
            when = _at(min(issued + timedelta(days=offset), self.today), hour)
            step = Step(max(when, after.when + timedelta(minutes=20)), action, args)
            steps.append(step)
            return step

        signed = rng.choice([0, 1, 1, 2])
        if stage == "awaiting":
            on(0, 0, outcome, "sign", who="applicant")
            spec.steps = self.fit(steps)
            return
        sign = on(signed, 15.5, outcome, "sign", who="all")
        if due is not None and issued + timedelta(days=due) < self.today:
            performed = signed if due == 0 else max(due - rng.randint(0, 2), signed + 1)
            on(performed, 16.5 if performed == signed else 11, sign, "perform")
        if stage in ("pending", "confirmed", "dismissed"):
            filed = {"pending": 9, "confirmed": 8, "dismissed": 12}[stage]
            filing = on(filed, 10, sign, "file")
            if stage != "pending":
                on(filed + rng.randint(14, 20), 16, filing, "ruling", result=stage)
        if stage == "overdue":
            second_due = self.today - timedelta(days=12)
            first_due = min(issued + timedelta(days=15), second_due - DAY)
            spec.extras["instalments"] = [first_due, second_due, self.today + timedelta(days=18)]
            paid = on(14, 10.5, sign, "instalment")
            on((second_due + DAY - issued).days, 1.5, paid, "overdue")
        spec.steps = self.fit(steps)

    # -- sessions -------------------------------------------------------------------------

    def sessions(self, spec: Spec, coming: list[date]) -> None:
        """Held sessions at the case's last level (each booked, then its minutes written
        within the hour after the day's window), and for an open case the next one."""
        rng, steps = self.rng, spec.steps
        starts = [s for s in steps if s.action in ("start", "confirm")]
        if not starts and spec.final is not S.ACCEPTED:
            return
        t0 = max(s.when for s in starts) if starts else max(
            s.when for s in steps if s.action == "accept")
        end = next((s for s in steps if s.action in ("outcome", "agreement") and s.when > t0
                    and s.args.get("stage") != "draft"), None)
        level = _final_level(spec)
        odds, most = SESSION_ODDS[level]
        is_open = spec.final in (S.ACCEPTED, S.IN_MEDIATION)
        draft = spec.extras.get("agreement", ("",))[0] == "draft"
        upcoming = None
        if is_open and coming and (draft or rng.random() < UPCOMING_ODDS[spec.final]):
            upcoming = self.coming_day(coming)
            if self.first_day_left and level is not Level.GRID \
                    and spec.street.id in self.centre_streets:
                upcoming = coming[0]
                self.first_day_left -= 1
        held = 0
        if spec.final is not S.ACCEPTED and rng.random() < (
                HELD_BEFORE_ODDS if is_open else odds):
            held = rng.randint(1, most)
        days = self.free_days(t0, end.when if end else self.now)
        if upcoming is not None:
            # Held sessions come before the coming one (around midday today is both a day a
            # session may have been held and one a session may still be booked on).
            days = [d for d in days if d[0] < upcoming]
        chosen = sorted(rng.sample(days, min(held, len(days))))
        count = len(chosen) + (upcoming is not None)
        previous = t0
        for i, (day, lo, hi) in enumerate(chosen):
            if i + 1 < len(chosen):
                next_day, minutes = chosen[i + 1][0], MinutesOutcome.ADJOURNED
            elif upcoming is not None:
                next_day, minutes = upcoming, MinutesOutcome.ADJOURNED
            else:
                next_day = self.working_after(day + timedelta(days=7))
                minutes = {S.SETTLED: MinutesOutcome.SETTLED,
                           S.PARTLY_SETTLED: MinutesOutcome.PARTLY,
                           S.FAILED: MinutesOutcome.FAILED}.get(spec.outcome,
                                                                MinutesOutcome.ADJOURNED)
            purpose = (PURPOSE_ONLY if count == 1 else PURPOSE_FIRST if i == 0
                       else PURPOSE_NEXT.format(n=chinese_ordinal(i + 1)))
            steps.append(Step(self.office_moment(previous, lo - HOUR), "session", {
                "key": i, "day": day, "window": (lo, hi),
                "purpose": self.purpose(level, purpose)}))
            written = hi + timedelta(minutes=rng.uniform(10, 50))
            steps.append(Step(written, "minutes", {
                "key": i, "minutes": minutes, "next_day": next_day,
                "absent": minutes is MinutesOutcome.ADJOURNED and i == 0
                and rng.random() < ABSENT_ODDS}))
            previous = written
        if upcoming is not None:
            base = max([previous] + [s.when for s in steps if s.action != "session"])
            book = self.office_moment(base, self.now - timedelta(minutes=5))
            lo = max(_at(upcoming, 8.5), self.now + 2 * HOUR)
            purpose = PURPOSE_SIGN if draft else (
                PURPOSE_FIRST if not chosen else PURPOSE_NEXT.format(
                    n=chinese_ordinal(len(chosen) + 1)))
            steps.append(Step(book, "session", {
                "key": "next", "day": upcoming, "window": (lo, _at(upcoming, 17.5)),
                "purpose": self.purpose(level, purpose)}))
            if rng.random() < REPLY_ODDS and self.replies < len(REPLIES):
                steps.append(Step(self.resident_moment(book, self.now), "reply",
                                  {"replies": REPLIES[self.replies]}))
                self.replies += 1

    def purpose(self, level: Level, purpose: str) -> str:
        return PURPOSE_STREET + purpose if level is Level.STREET else purpose

    def coming_day(self, coming: list[date]) -> date:
        """Sooner days more likely: the first week fuller than the third."""
        weights = [len(coming) - i + 4 for i in range(len(coming))]
        return self.rng.choices(coming, weights)[0]

    def free_days(self, t0: datetime, t1: datetime) -> list[tuple[date, datetime, datetime]]:
        """Working days between the two moments with two hours or more of office time in
        them, an hour or more after ``t0`` and ending two hours before ``t1``."""
        days = []
        day = rules.local_date(t0)
        while day <= rules.local_date(t1):
            if self.is_working(day):
                lo = max(t0 + HOUR, _at(day, 8.5))
                hi = min(t1 - 2 * HOUR, _at(day, 17.5))
                if hi - lo >= 2 * HOUR:
                    days.append((day, lo, hi))
            day += DAY
        return days

    def working_after(self, day: date) -> date:
        while not self.is_working(day):
            day += DAY
        return day

    def moment_between(self, after: datetime, before: datetime, hours: tuple) -> datetime:
        """A moment in (after, before) within those local hours of a day if there is one
        (the longer stretches likelier), else just after ``after``."""
        stretches = []
        day = rules.local_date(after)
        while day <= rules.local_date(before):
            lo = max(after + timedelta(minutes=10), _at(day, hours[0]))
            hi = min(before, _at(day, hours[1]))
            if hi > lo:
                stretches.append((lo, hi))
            day += DAY
        if not stretches:
            return min(after + timedelta(minutes=10), before)
        lo, hi = self.rng.choices(stretches, [(h - lo).total_seconds()
                                              for lo, h in stretches])[0]
        return lo + (hi - lo) * self.rng.random()

    def office_moment(self, after: datetime, before: datetime) -> datetime:
        """When staff do something: office hours."""
        return self.moment_between(after, before, (8.5, 18))

    def resident_moment(self, after: datetime, before: datetime) -> datetime:
        """When a resident answers on the portal: waking hours."""
        return self.moment_between(after, before, (7, 22.5))

    # -- ratings --------------------------------------------------------------------------

    def rating(self, spec: Spec) -> None:
        """Some parties rate the service on the portal in the days after the outcome: the
        applicant, sometimes the respondent too."""
        if spec.outcome is None:
            return
        rng = self.rng
        if rng.random() >= RATING_ODDS.get(spec.outcome, OTHER_RATING_ODDS):
            return
        end = next(s for s in spec.steps if s.action in ("outcome", "agreement", "decline")
                   and s.args.get("stage") != "draft")
        roles = [PartyRole.APPLICANT] + ([PartyRole.RESPONDENT] if rng.random() < 0.3 else [])
        for role in roles:
            latest = min(end.when + timedelta(days=rng.uniform(0.5, 12)),
                         self.now - timedelta(minutes=10))
            if latest > end.when + timedelta(minutes=20):
                spec.steps.append(Step(self.resident_moment(end.when, latest), "rate",
                                       {"role": role}))


class LivingPlayer(Player):
    """The cases' player, who also books and holds sessions, issues agreements and rates."""

    STAMPS = {
        **Player.STAMPS,
        MediationSession: ("created_at", "cancelled_at"), Participant: ("replied_at",),
        Minutes: ("created_at", "updated_at"),
        Agreement: ("created_at", "updated_at"),
        JudicialConfirmation: ("created_at",), Rating: ("rated_at",),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.court = db.session.scalar(select(Court).where(Court.active).order_by(Court.id))
        base = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
        self.verify_url = base.rstrip("/") + "/v/{code}"
        self.rulings = 0

    def play(self, spec: Spec) -> Case:
        self.booked: dict = {}  # the plan's key → the session booked (None: no free slot)
        self.agreement: Agreement | None = None
        return super().play(spec)

    def party(self, role: PartyRole):
        return next((p for p in self.case.parties if p.role is role), None)

    def do_create(self, step: Step) -> None:
        """A resident's report comes in through the portal's own operation (the resident
        names the other side, sometimes with a phone number); the others as staff register
        them."""
        spec = self.spec
        if spec.source is not Source.RESIDENT_REPORT:
            super().do_create(step)
            return
        applicant, other = (p.data for p in spec.parties[:2])
        report = spec.extras["report"]
        receipt = report_dispute(ReportInput(
            name=applicant.name, phone=applicant.phone, grid=spec.grid,
            narrative=f"{spec.texts['title']}\n{spec.texts['story']}{report['ending']}",
            category=spec.category, address=spec.texts["address"], other_name=other.name,
            other_phone=other.phone if report["other_phone"] else None, consent=True))
        self.case = receipt.case

    # -- sessions -------------------------------------------------------------------------

    def do_session(self, step: Step) -> None:
        lead = self.handler()
        session = self.book(step.when, lead, step.args)
        self.booked[step.args["key"]] = session  # None: every slot that day was taken
        if session is not None:
            self.extra.append(session)
            self._told(session, step.when)

    def book(self, when: datetime, lead: User, args: dict) -> MediationSession | None:
        """The first slot of the day, in the first place, that is free for everyone."""
        case, rng = self.case, self.rng
        lo, hi = args["window"]
        parties = [p for p in case.parties if not p.refuses_mediation]
        co = [a.user for a in case.assignments if a.role is AssignmentRole.CO_HANDLER
              and a.user_id != lead.id and access.can(a.user, "cases.handle", case)]
        legal_aid = [a.user for a in case.assignments if a.role is AssignmentRole.LEGAL_AID]
        starts = list(START_TIMES)
        rng.shuffle(starts)
        length = rng.choice(LENGTHS)
        places = self.places(len(parties) + sum(1 for p in parties if p.agent_name)
                             + 1 + len(co) + len(legal_aid))
        for start_time in starts:
            start = datetime.combine(args["day"], start_time, tzinfo=LOCAL)
            if start < lo or start + length > hi or start < when + HOUR:
                continue
            for place in places:
                data = session_ops.SessionInput(
                    starts_at=start, ends_at=start + length,
                    place_kind=PlaceKind.ROOM if isinstance(place, Room) else PlaceKind.ON_SITE,
                    room=place if isinstance(place, Room) else None,
                    address=None if isinstance(place, Room) else place,
                    purpose=args["purpose"], lead_mediator=lead, co_mediators=co,
                    legal_aid=legal_aid, parties=parties)
                try:
                    return session_ops.schedule_session(lead, case, data, now=when)
                except OperationError:
                    continue  # a clash (or a room too small): the next place, then time
        return None

    def places(self, headcount: int) -> list[Room | str]:
        """The street centre's rooms for the street's cases above the grid, the district's
        for the other streets' (all of the street level, some of the community level), else
        on site: the community's office, the grid's estate."""
        case = self.case
        centres = session_ops.centres_for(case)
        own = [c for c in centres if c.area.kind is AreaKind.STREET]
        district = [c for c in centres if c.area.kind is AreaKind.DISTRICT]

        def rooms(found):
            usable = [r for c in found for r in c.rooms if r.active and r.capacity >= headcount]
            self.rng.shuffle(usable)
            return sorted(usable, key=lambda r: r.capacity < SMALL_ROOM)  # small ones last

        community = case.grid.parent
        office = f"{community.parent.name}{community.name}党群服务中心调解室"
        if case.level is Level.GRID:
            return [case.address or office]
        if case.level is Level.COMMUNITY:
            if own:
                return rooms(own) + [office]
            # Where the street has no centre, the district's hosts some of the larger ones.
            return rooms(district) + [office] if self.rng.random() < DISTRICT_ODDS \
                else [office]
        return rooms(own) + rooms(district) or [office]

    def _told(self, session: MediationSession, when: datetime) -> None:
        """The notices went out when the session was booked (handed to the SMS gateway)."""
        for message in db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.session_id == session.id)):
            message.created_at = when
            if message.kind == NOTICE and message.status is OutboxStatus.PENDING:
                message.due_at = message.sent_at = when
                message.status = OutboxStatus.SENT
                if message.channel is Channel.SMS:
                    message.exported_at = when

    def do_minutes(self, step: Step) -> None:
        """Who came, and what was said: recorded after the session."""
        session = self.booked.get(step.args["key"])
        if session is None:
            return
        spec, args = self.spec, step.args
        lead = next(p.user for p in session.participants
                    if p.role is ParticipantRole.LEAD_MEDIATOR)
        absent = args["absent"]
        attendance = {p.id: Attendance.ABSENT if absent and p.party is not None
                      and p.party.role is PartyRole.RESPONDENT else Attendance.ATTENDED
                      for p in session.participants}
        session_ops.record_attendance(lead, session, attendance)
        outcome = MinutesOutcome.ADJOURNED if absent else args["minutes"]
        values = spec.texts["values"]
        ending = (ABSENT if absent else MINUTES_ENDS[outcome]).format(
            **values, terms=spec.texts["terms"], next=_md(args["next_day"]))
        body = "\n".join([OPENING, ending] if absent
                         else [OPENING, STATEMENTS.format(**values), ending])
        minutes = save_minutes(lead, session, matter=spec.texts["title"], body=body,
                               outcome=outcome, next_date=args["next_day"])
        self.extra.append(minutes)

    def do_reply(self, step: Step) -> None:
        """Parties answer the coming session's notice on the portal."""
        session = self.booked.get("next")
        if session is None:
            return
        for role, reply, reason in step.args["replies"]:
            participant = next((p for p in session.participants
                                if p.role is ParticipantRole.PARTY and p.party is not None
                                and p.party.role is role), None)
            if participant is None:
                continue
            portal_ops.reply_to_session(participant.party, session.id, reply, reason)
            self.extra.append(participant)

    # -- agreements -----------------------------------------------------------------------

    def signer(self) -> User:
        """The handler signs as the people's mediator; a grid case's community mediator."""
        handler = self.handler()
        if access.can(handler, "agreements.issue", self.case):
            return handler
        return self.user(COMMUNITY_MEDIATOR[self.spec.community.name])

    def do_agreement(self, step: Step) -> None:
        case, spec = self.case, self.spec
        stage = step.args["stage"]
        by = self.signer()
        applicant, respondent = self.party(PartyRole.APPLICANT), self.party(PartyRole.RESPONDENT)
        values = spec.texts["values"]
        agreement = agreement_ops.start_draft(by, case)
        recorder = self.user(self.planner.worker_of(spec.grid)).full_name
        agreement_ops.update_draft(by, agreement, agreement_ops.DraftInput(
            facts=case.narrative, disputed_matters=DISPUTED.format(**values),
            copies=len(agreement.parties) + 1, mediator=by, recorder_name=recorder,
            inviting_court=self.court if case.source is Source.COURT_REFERRAL else None,
            concerns_status=False, determines_ownership=False,
            responsibilities={e.party_id: RESPONSIBILITY[e.party.role]
                              for e in agreement.parties}))
        day = rules.local_date(step.when)
        pay = str(spec.pay)
        if stage == "overdue":
            first, second, third = spec.extras["instalments"]
            share = spec.pay // 3
            term = agreement_ops.TermInput(
                content=OVERDUE_TERM.format(**values), obligor_id=respondent.id,
                obligee_id=applicant.id, amount=pay, method="银行转账",
                instalments=f"{first} {share}\n{second} {share}\n{third} {spec.pay - 2 * share}")
        else:
            due = spec.extras["due"]
            term = agreement_ops.TermInput(
                content=spec.texts["terms"], obligor_id=respondent.id, obligee_id=applicant.id,
                amount=pay, method="现金" if due == 0 else "银行转账", on_the_spot=due == 0,
                due_on=day + timedelta(days=due) if due else None)
        agreement_ops.save_term(by, agreement, None, term)
        self.extra.append(agreement)
        self.agreement = agreement
        if stage == "draft":
            return
        agreement_ops.issue(by, agreement, verify_url=self.verify_url, on=day)
        # issue() keeps the clock's time of day on that day: the step's moment, as for the
        # other stamps.
        agreement.issued_at = step.when

    def do_sign(self, step: Step) -> None:
        agreement, day = self.agreement, rules.local_date(step.when)
        by = self.signer()
        entries = agreement.parties if step.args["who"] == "all" else [
            e for e in agreement.parties if e.party.role is PartyRole.APPLICANT]
        for entry in entries:
            old = entry.party.kind is PartyKind.PERSON and entry.party.birth_date \
                and entry.party.birth_date.year < 1950
            method = SignMethod.SEAL if entry.party.kind is PartyKind.ORGANISATION else \
                SignMethod.FINGERPRINT if old else SignMethod.SIGNATURE
            agreement_ops.record_signature(by, agreement, f"party:{entry.party_id}", day, method)
        agreement_ops.record_signature(by, agreement, "mediator", day)
        if step.args["who"] == "all":
            agreement_ops.record_signature(by, agreement, "recorder", day)
            agreement_ops.record_signature(by, agreement, "seal", day)

    def do_perform(self, step: Step) -> None:
        term = self.agreement.terms[0]
        agreement_ops.record_performance(self.signer(), term, rules.local_date(step.when),
                                         on_the_spot=term.on_the_spot)

    def do_file(self, step: Step) -> None:
        day = rules.local_date(step.when)
        self.rulings += 1
        reference = f"（{day.year}）鲁0599民特{100 + 7 * self.rulings}号"
        self.extra.append(agreement_ops.file_confirmation(
            self.signer(), self.agreement, court=self.court, court_name=None, filed_on=day,
            case_reference=reference))

    def do_ruling(self, step: Step) -> None:
        confirmation = self.agreement.confirmations[-1]
        confirmed = step.args["result"] == "confirmed"
        agreement_ops.record_ruling(
            self.signer(), confirmation,
            result=ConfirmationResult.CONFIRMED if confirmed else ConfirmationResult.DISMISSED,
            ruling_number=confirmation.case_reference, ruled_on=rules.local_date(step.when),
            note=None if confirmed else DISMISSAL)

    def do_instalment(self, step: Step) -> None:
        instalment = self.agreement.terms[0].instalments[0]
        agreement_ops.record_instalment(self.signer(), instalment,
                                        min(rules.local_date(step.when), instalment.due_on))

    def do_overdue(self, step: Step) -> None:
        """The nightly check after the second instalment's day (it flags only this one: the
        other demo agreements' terms are performed or not due yet)."""
        agreement_ops.check_performance(rules.local_date(step.when))

    # -- ratings --------------------------------------------------------------------------

    def do_rate(self, step: Step) -> None:
        spec, rng = self.spec, self.rng
        role = step.args["role"]
        party = self.party(role)
        if party is None or party.kind is not PartyKind.PERSON \
                or not portal_ops.may_rate(party):
            return
        satisfied, fairly, unsatisfied = SATISFACTION_WEIGHTS.get(spec.outcome, OTHER_WEIGHTS)
        if role is PartyRole.RESPONDENT:  # who paid is a little less pleased
            satisfied, unsatisfied = satisfied - 10, unsatisfied + 10
        satisfaction = rng.choices(list(Satisfaction), (satisfied, fairly, unsatisfied))[0]
        comment = rng.choice(COMMENTS[satisfaction]) if rng.random() < COMMENT_ODDS else None
        self.extra.append(portal_ops.rate_service(party, satisfaction, comment))


def seed_living_cases() -> int:
    """The demo cases with their sessions, agreements and ratings; 0 if any case exists."""
    return seed_cases(planner_class=LivingPlanner, player_class=LivingPlayer)
