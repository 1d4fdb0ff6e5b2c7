"""The life of a case as data: states, levels and the one transition table."""

from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l


class CaseState(TitledEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_MEDIATION = "in_mediation"
    SETTLED = "settled"
    PARTLY_SETTLED = "partly_settled"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"
    REFERRED_OUT = "referred_out"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"

    @classmethod
    def __titles__(cls):
        return {
            cls.REPORTED: _l("Reported"),
            cls.ACCEPTED: _l("Accepted"),
            cls.DECLINED: _l("Declined"),
            cls.IN_MEDIATION: _l("In mediation"),
            cls.SETTLED: _l("Settled"),
            cls.PARTLY_SETTLED: _l("Partly settled"),
            cls.FAILED: _l("Mediation failed"),
            cls.WITHDRAWN: _l("Withdrawn"),
            cls.REFERRED_OUT: _l("Referred out"),
            cls.FOLLOW_UP: _l("Follow-up"),
            cls.CLOSED: _l("Closed"),
        }


class Level(TitledEnum):
    """Where an open case is handled: 小事不出网格、大事不出社区、难事不出街道."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"

    @classmethod
    def __titles__(cls):
        return {cls.GRID: _l("Grid level"), cls.COMMUNITY: _l("Community level"),
                cls.STREET: _l("Street level")}

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def next(self) -> "Level | None":
        levels = list(Level)
        return levels[self.rank + 1] if self.rank + 1 < len(levels) else None


S = CaseState

# Every allowed move between states; anything else is refused.  Level moves
# (escalation) are not state changes: they happen while a case is OPEN_STATES.
ALLOWED: dict[CaseState, frozenset[CaseState]] = {
    S.REPORTED: frozenset({S.ACCEPTED, S.DECLINED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.IN_MEDIATION, S.FAILED, S.WITHDRAWN, S.REFERRED_OUT}),
    S.IN_MEDIATION: frozenset({S.SETTLED, S.PARTLY_SETTLED, S.FAILED, S.WITHDRAWN,
                               S.REFERRED_OUT}),
    S.SETTLED: frozenset({S.FOLLOW_UP, S.CLOSED}),
    S.PARTLY_SETTLED: frozenset({S.FOLLOW_UP, S.CLOSED}),
    S.FAILED: frozenset({S.FOLLOW_UP, S.CLOSED}),
    S.WITHDRAWN: frozenset({S.CLOSED}),
    S.DECLINED: frozenset({S.CLOSED}),
    S.REFERRED_OUT: frozenset({S.FOLLOW_UP, S.CLOSED}),
    S.FOLLOW_UP: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# A case is "open" (sits at a level, has deadlines, can escalate) in these states.
OPEN_STATES = frozenset({S.REPORTED, S.ACCEPTED, S.IN_MEDIATION})
# States that end the mediation itself (an outcome has been recorded).
OUTCOME_STATES = frozenset({S.SETTLED, S.PARTLY_SETTLED, S.FAILED, S.WITHDRAWN, S.DECLINED,
                            S.REFERRED_OUT})
# Transitions that must say why.
REASON_REQUIRED = frozenset({S.DECLINED, S.FAILED, S.WITHDRAWN, S.REFERRED_OUT})


class Source(TitledEnum):
    """How the dispute reached us (案件来源)."""

    PARTY_APPLICATION = "party_application"
    COMMITTEE_INITIATIVE = "committee_initiative"
    GRID_PATROL = "grid_patrol"
    WALK_IN = "walk_in"
    HOTLINE = "hotline"
    POLICE_REFERRAL = "police_referral"
    COURT_REFERRAL = "court_referral"
    RESIDENT_REPORT = "resident_report"

    @classmethod
    def __titles__(cls):
        return {
            cls.PARTY_APPLICATION: _l("Party's application"),
            cls.COMMITTEE_INITIATIVE: _l("Committee's own initiative"),
            cls.GRID_PATROL: _l("Grid patrol"),
            cls.WALK_IN: _l("Walk-in at a centre"),
            cls.HOTLINE: _l("12345 hotline"),
            cls.POLICE_REFERRAL: _l("Police referral"),
            cls.COURT_REFERRAL: _l("Court referral before filing"),
            cls.RESIDENT_REPORT: _l("Resident's online report"),
        }


# Sources only the residents' portal sets (a resident's own report): staff registering or
# editing a case, on a form or through the API, can neither choose one nor change it away.
PORTAL_SOURCES = frozenset({Source.RESIDENT_REPORT})
STAFF_SOURCES = tuple(source for source in Source if source not in PORTAL_SOURCES)


class RiskLevel(TitledEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @classmethod
    def __titles__(cls):
        return {cls.LOW: _l("Low risk"), cls.MEDIUM: _l("Medium risk"),
                cls.HIGH: _l("High risk")}


# The risk factors a case is assessed on; the two marked severe make a case high-risk alone.
RISK_FACTORS = {
    "violence_threat": (_l("Threat of violence"), True),
    "criminal_risk": (_l("Risk of turning criminal (民转刑)"), True),
    "vulnerable_party": (_l("Vulnerable party (minor, elderly, disabled)"), False),
    "group_dispute": (_l("Group dispute"), False),
    "repeat_petition": (_l("Repeated petition"), False),
}


def assess_risk(flags: dict[str, bool]) -> RiskLevel:
    """High with a severe factor or three factors; medium with any; else low."""
    present = [name for name, on in flags.items() if on]
    if any(RISK_FACTORS[name][1] for name in present) or len(present) >= 3:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if present else RiskLevel.LOW
