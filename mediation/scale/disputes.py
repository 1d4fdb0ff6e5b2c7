"""The disputes of the synthetic city: N cases over the last five years, made as rows.

Each case is drawn from the demo's scenarios (``mediation.cases.demo``: titles, stories,
parties, amounts, risks) and given a life that the operations could have given it: the
timeline holds the states it went through (reported, accepted, in mediation, the outcome,
follow-up, closed), the level moves with their proposals, notes, sessions, a written
agreement, supervision; the open cases carry what last night's ``check-deadlines`` left
(open proposals, automatic supervision notices).  Deadlines count calendar days (the
holiday calendar is not consulted: close enough for a benchmark).

Cases are made day by day, oldest first, so that numbers run in the order of reporting; the
caller gets them in chunks of rows per table and never holds more than one chunk.
"""

import bisect
import hashlib
import json
import math
import random
from datetime import date

from mediation.agreements.operations import CODE_ALPHABET
from mediation.cases import demo
from mediation.cases.search import bigrams, document
from mediation.scale.city import City, mobile, person_name
from mediation.scale.load import DAY, OFFSET
from mediation.scale.pools import GIVEN

# ---- the mix ----------------------------------------------------------------------------

OPEN_SHARE = 0.10  # reported, accepted or in mediation, at grid, community or street level
RECENT_SHARE = 0.02  # an outcome (or follow-up) not yet closed
HISTORY_DAYS = 5 * 365
YEARLY_GROWTH = 0.08  # each year reports a little more than the one before
OPEN_STATES = [("reported", 25), ("accepted", 25), ("in_mediation", 50)]
# (final state, outcome): weights.
RECENT_MIX = [(("settled", "settled"), 25), (("partly_settled", "partly_settled"), 5),
              (("failed", "failed"), 6), (("withdrawn", "withdrawn"), 5),
              (("declined", "declined"), 5), (("referred_out", "referred_out"), 5),
              (("follow_up", "settled"), 40), (("follow_up", "partly_settled"), 4),
              (("follow_up", "failed"), 3), (("follow_up", "referred_out"), 2)]
CLOSED_OUTCOMES = [("settled", 80), ("partly_settled", 6), ("failed", 5), ("withdrawn", 4),
                   ("declined", 3), ("referred_out", 2)]
LEVELS = ("grid", "community", "street")
RANK = {level: rank for rank, level in enumerate(LEVELS)}
FINAL_LEVEL = [("grid", 45), ("community", 43), ("street", 12)]
OPEN_LEVEL = [("grid", 42), ("community", 42), ("street", 16)]
# Where a case started, given where it is now.
START_LEVEL = {"grid": [("grid", 1)], "community": [("community", 75), ("grid", 25)],
               "street": [("street", 35), ("community", 45), ("grid", 20)]}
SOURCES_AT = {
    "grid": ["grid_patrol", "hotline", "party_application"],
    "community": ["party_application", "committee_initiative", "walk_in", "police_referral",
                  "court_referral"],
    "street": ["walk_in", "police_referral", "court_referral", "party_application"],
}
RESIDENT_REPORTS = 0.04  # of the cases starting in a grid: a resident's own online report
ID_NUMBER_SHARE = 0.3  # persons whose ID number is on record
LANDLORDS = 4  # landlords who recur in thousands of rental disputes (at a million cases)
ACCESS_CODE_CASES = 1000  # cases whose parties get a known access code (two per case)
OUTCOME_HOURS = {"grid": (2, 96), "community": (24, 300), "street": (48, 480)}
PAY_METHODS = ["现金", "微信转账", "银行转账"]
SATISFACTION = [("satisfied", 70), ("fairly_satisfied", 22), ("unsatisfied", 8)]
RATING_COMMENTS = ["调解员很耐心，问题解决了。", "处理及时，谢谢社区。", "希望对方按协议履行。",
                   "基本满意。", "时间拖得有点长。"]
RECORDERS = ["王晓丽", "李静", "张敏", "刘洋", "陈晨", "杨帆", "赵磊", "孙悦"]
UPCOMING_SESSION = 0.3  # of the open cases in mediation above the grid
HELD_SESSION = 0.25  # of the cases mediated above the grid
WRITTEN_AGREEMENT = 0.3  # of the cases settled above the grid (not orally)

# ---- the rows ---------------------------------------------------------------------------

COLUMNS = {
    "cases": ("id", "number", "year", "seq", "title", "source", "grid_id", "category_id",
              "narrative", "address", "amount_fen", "violence_threat", "criminal_risk",
              "vulnerable_party", "group_dispute", "repeat_petition", "risk_level", "state",
              "level", "level_entered_at", "level_deadline", "overall_deadline", "handler_id",
              "reported_by_id", "reported_at", "accepted_at", "outcome_at", "closed_at",
              "updated_at", "decline_reason", "referred_to", "oral_agreement", "routes_told",
              "settled_level", "outcome", "version", "proposal_waiting"),
    "case_search": ("case_id", "grid_id", "body"),
    "parties": ("id", "case_id", "role", "kind", "name", "gender", "ethnicity", "birth_date",
                "occupation", "id_type", "id_number_encrypted", "id_number_index",
                "id_number_masked", "phone", "address", "community_id", "uscc",
                "legal_representative", "legal_representative_title", "agent_name",
                "agent_phone", "agent_power_of_attorney", "refuses_mediation", "created_at"),
    "case_events": ("id", "case_id", "at", "actor_id", "kind", "from_state", "to_state",
                    "from_level", "to_level", "reason", "data"),
    "case_assignments": ("id", "case_id", "user_id", "role", "assigned_at"),
    "escalation_proposals": ("id", "case_id", "rule", "from_level", "to_level", "reason",
                             "status", "created_at", "created_by_id", "decided_at",
                             "decided_by_id", "decision_note"),
    "supervision_notices": ("id", "case_id", "level", "deadline", "automatic", "issued_at",
                            "issued_by_id", "to_user_id", "message", "respond_by", "response",
                            "responded_at", "responded_by_id"),
    "follow_ups": ("id", "case_id", "visited_on", "visitor_id", "performance", "satisfaction",
                   "new_lawsuit", "remaining_risk", "measures", "created_at"),
    "help_requests": ("id", "case_id", "department", "department_detail", "message",
                      "requested_at", "requested_by_id", "response", "responded_at"),
    "mediation_sessions": ("id", "case_id", "starts_at", "ends_at", "place_kind", "room_id",
                           "address", "video_link", "purpose", "status", "created_by_id",
                           "created_at", "version"),
    "session_participants": ("id", "session_id", "role", "user_id", "party_id", "name",
                             "organisation", "attendance", "consent_recorded"),
    "agreements": ("id", "case_id", "committee_id", "version", "status", "facts",
                   "disputed_matters", "copies", "mediator_id", "recorder_name",
                   "concerns_status", "determines_ownership", "year", "seq", "number",
                   "verification_code", "issued_at", "issued_on", "issued_by_id", "pdf",
                   "sha256", "mediator_signed_on", "recorder_signed_on", "sealed_on",
                   "effective_on", "created_at", "created_by_id", "updated_at",
                   "lock_version"),
    "agreement_parties": ("id", "agreement_id", "party_id", "position", "responsibility",
                          "signed_on", "sign_method"),
    "agreement_terms": ("id", "agreement_id", "position", "content", "amount_fen", "method",
                        "place", "due_on", "performed_on", "on_the_spot"),
    "agreement_term_parties": ("term_id", "party_id", "side", "position", "share_fen"),
    "access_codes": ("party_id", "code_hash", "issued_at", "issued_by_id"),
    "ratings": ("id", "case_id", "party_id", "satisfaction", "comment", "rated_at"),
}
# In an order that satisfies the foreign keys.
TABLES = list(COLUMNS)
ID_TABLES = [t for t in TABLES if COLUMNS[t][0] == "id"]


def _weighted(pairs):
    """(values, cumulative weights) for ``rng.choices``."""
    values, cumulative, total = [], [], 0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cumulative.append(total)
    return values, cumulative


def _pick(rng: random.Random, weighted):
    """One value of ``_weighted``'s (values, cumulative weights)."""
    values, cumulative = weighted
    return values[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


class FastRandom(random.Random):
    """``random.Random`` with cheaper integers and choices (a million cases draw some
    hundred million numbers; the standard ones draw bits until unbiased, which is exact but
    several times slower: a bias of one part in 2**53 does not matter here)."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            return int(self.random() * start)
        return start + int(self.random() * (stop - start))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


def _spread(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights``, in whole numbers (largest remainder)."""
    whole = sum(weights) or 1
    shares = [w * total / whole for w in weights]
    counts = [math.floor(s) for s in shares]
    for i in sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])[
            :total - sum(counts)]:
        counts[i] += 1
    return counts


def _scenarios():
    """The demo's scenarios, their party tokens parsed once."""
    parsed = {}
    for code, scenarios in demo.SCENARIOS.items():
        parsed[code] = []
        for scenario in scenarios:
            parties = []
            for token in scenario["parties"]:
                role, kind, *hints = token.rstrip("?").split(":")
                parties.append(({"A": "applicant", "R": "respondent", "T": "third_party"}[role],
                                kind, frozenset(hints), token.endswith("?")))
            parsed[code].append({**scenario, "parsed": parties,
                                 "risk_items": list(scenario["risks"].items()),
                                 "rental": "押金" in scenario["title"]})
    return parsed


class Texts:
    """The app's own sentences (translated as the operations write them), formatted here."""

    def __init__(self, gettext, titles: dict[str, str], role_titles: dict[str, str]):
        self.level = titles
        self.role = role_titles
        self.follow_up = gettext("Follow-up visit on %(date)s.")
        self.auto_level = gettext("The %(level)s time limit ended on %(date)s: report on the "
                                  "case and what is being done.")
        self.auto_overall = gettext("The overall time limit of the mediation ended on "
                                    "%(date)s: conclude it, or record the parties' consent to "
                                    "go on.")
        self.deadline_passed = gettext("The %(level)s time limit ended on %(date)s.")
        self.high_risk = gettext("High-risk disputes are handled at street level.")
        self.over_limit = gettext("%(amount)s yuan is above the %(level)s limit of "
                                  "%(limit)s yuan.")
        self.cross = gettext("The parties live in %(n)d different communities.")
        self.handler = gettext("Handler: %(name)s")
        self.assigned = gettext("%(role)s: %(name)s")
        self.session = gettext("Session on %(when)s: %(purpose)s")
        self.agreement_issued = gettext("Agreement %(number)s issued.")
        self.written_settled = gettext("Written agreement %(number)s issued.")


class Disputes:
    """Makes the cases; ``chunks`` yields (number of cases, {table: rows}) oldest first."""

    def __init__(self, city: City, categories: list, level_rules: dict, rng: random.Random,
                 now: int, clock, texts: Texts, *, encrypt, blind_index, code_hash,
                 number_pattern: str, pdf: bytes, ids: dict[str, int],
                 case_counters: dict[int, int], total: int, search_bigrams: bool = False):
        self.city, self.rng, self.now, self.texts = city, rng, now, texts
        self.ts, self.day = clock.ts, clock.day
        self.encrypt, self.blind_index, self.code_hash = encrypt, blind_index, code_hash
        self.number_pattern = number_pattern
        self.pdf, self.pdf_sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        self.next = dict(ids)
        self.seq = dict(case_counters)  # year -> last number given
        self.agreement_seq: dict[tuple[int, int], int] = {}
        self.today = (now + OFFSET) // DAY
        self.limit = now - 600  # nothing after this
        self.total = total
        self.search_bigrams = search_bigrams  # PostgreSQL's case_search.bigrams
        self.categories = categories  # (id, code, {level: days}, overall days)
        self.category_choice = _weighted(
            (c, demo.CATEGORY_WEIGHTS.get(c[1], 1)) for c in categories)
        self.level_rules = level_rules  # level -> (amount limit fen or None, warn days)
        self.scenarios = _scenarios()
        self.access_share = min(1.0, ACCESS_CODE_CASES / max(total, 1))
        self.access_codes: list[tuple[str, str]] = []
        self.counts = dict.fromkeys(TABLES, 0)
        self.states: dict[str, int] = {}
        self.used_slots: set[tuple[int, int, int]] = set()
        self.orgs: dict[tuple, tuple] = {}
        self._landlords()
        self.help = {code: (department.value, detail, message, response)
                     for code, (department, detail, message, response) in demo.HELP.items()}

    # -- ids and rows ---------------------------------------------------------------------
    def _id(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value

    def _add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)

    # -- the plan: how many cases each day --------------------------------------------------
    def plan(self) -> None:
        rng, today = self.rng, self.today
        total = self.total
        n_open = round(total * OPEN_SHARE)
        n_recent = round(total * RECENT_SHARE)
        n_closed = total - n_open - n_recent
        self.first_day = today - HISTORY_DAYS

        def counts(first, last, n):
            """Each month its share (seasons, growth), spread over its days at random."""
            months: dict[tuple[int, int], list[int]] = {}
            for d in range(first, last + 1):
                day = date.fromordinal(d + 719163)
                months.setdefault((day.year, day.month), []).append(d)
            weights = [len(days) * (1 + YEARLY_GROWTH * (days[0] - self.first_day) / 365)
                       * demo.SEASON[month] for (_year, month), days in months.items()]
            found: dict[int, int] = {}
            for days, count in zip(months.values(), _spread(n, weights), strict=True):
                for _i in range(count):
                    d = days[rng.randrange(len(days))]
                    found[d] = found.get(d, 0) + 1
            return found

        self.closed_days = counts(self.first_day, today - 21, n_closed)
        self.recent_days = counts(today - 75, today - 2, n_recent)
        self.open_days: dict[int, list] = {}
        states = _weighted(OPEN_STATES)
        levels = _weighted(OPEN_LEVEL)
        for _i in range(n_open):
            state = _pick(rng, states)
            level = _pick(rng, levels) if state != "reported" else \
                rng.choices(["grid", "community", "street"], cum_weights=[50, 90, 100])[0]
            category = _pick(rng, self.category_choice)
            days = category[2][level]
            warn = self.level_rules[level][1]
            roll = rng.random()
            if roll < 0.25:  # overdue
                offset = -rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 14, 20])
            elif roll < 0.4 or warn + 1 > days - 1:  # due soon
                offset = rng.randint(0, min(warn, days - 1))
            else:
                offset = rng.randint(warn + 1, days - 1)
            entered_day = today + offset - days
            start = _pick(rng, _START[level])
            reported_day = entered_day - (rng.randint(1, 12) if start != level else 0)
            self.open_days.setdefault(max(reported_day, self.first_day), []).append(
                (state, level, start, category, entered_day))

    def chunks(self, size: int):
        rng = self.rng
        self.rows = {table: [] for table in TABLES}
        in_chunk = 0
        for day in range(self.first_day, self.today + 1):
            tickets = [("closed", None)] * self.closed_days.get(day, 0) + \
                [("recent", None)] * self.recent_days.get(day, 0) + \
                [("open", plan) for plan in self.open_days.pop(day, [])]
            if not tickets:
                continue
            base = day * DAY - OFFSET
            timed = []
            for kind, plan in tickets:
                t = base + rng.randint(8 * 3600, 19 * 3600 - 1)
                if t > self.limit - 7200:
                    t = self.limit - rng.randint(7200, 5 * 3600)
                timed.append((t, kind, plan))
            timed.sort(key=lambda item: item[0])
            for t, kind, plan in timed:
                self.case(t, kind, plan)
                in_chunk += 1
            if in_chunk >= size:
                yield in_chunk, self._take()
                in_chunk = 0
        if in_chunk:
            yield in_chunk, self._take()

    def _take(self) -> dict[str, list]:
        rows = self.rows
        for table, table_rows in rows.items():
            self.counts[table] += len(table_rows)
        self.rows = {table: [] for table in TABLES}
        return rows

    # -- people ---------------------------------------------------------------------------
    def _landlords(self) -> None:
        """A few landlords (二房东) who are the applicant of many rental disputes."""
        rng = self.rng
        self.landlords = []
        for _i in range(LANDLORDS):
            community = rng.choice(self.city.communities)
            male = rng.random() < 0.6
            birth = date(rng.randint(1960, 1985), rng.randint(1, 12), rng.randint(1, 28))
            number = demo.id_number(rng, rng.choice(demo.LOCAL_AREAS), birth, male)
            self.landlords.append((
                person_name(rng, male), "male" if male else "female", "汉族",
                birth.isoformat(), "个体经营者", "resident_id", self.encrypt(number),
                self.blind_index(number), self._mask(number), mobile(rng),
                self._address(community, rng.choice(community.estates)), community.id,
                birth.year))

    @staticmethod
    def _mask(number: str) -> str:
        return "*" * (len(number) - 4) + number[-4:]

    def _address(self, community, estate, building=None) -> str:
        rng = self.rng
        building = building or rng.randint(1, 32)
        return (f"{community.street.district.name}{community.street.name}{community.name}"
                f"{estate}{building}号楼{rng.randint(1, 4)}单元{rng.randint(1, 17)}0"
                f"{rng.randint(1, 2)}室")

    def _organisation(self, kind: str, community) -> tuple:
        """The same organisation every time it appears (same name, code, phone)."""
        rng = self.rng
        brands, suffix, prefix, title = demo.ORGS[kind]
        street = community.street
        if kind == "insurer":
            name = rng.choice(demo.INSURERS)
        elif kind == "clinic":
            name = f"{street.district.name}{street.name}社区卫生服务中心"
        elif kind == "coop":
            name = f"{street.district.name}{street.name}{community.name}股份经济合作社"
        else:
            name = f"东营市{rng.choice(brands)}{suffix}"
        found = self.orgs.get(name)
        if found is None:
            area = "370500" if kind in ("insurer", "developer") else street.district.code
            found = (name, demo.uscc(rng, prefix, area),
                     rng.choice(demo.SURNAMES) + rng.choice(GIVEN[(rng.choice("mf"), "young")]),
                     title, f"0546-8{rng.randint(100000, 999999)}",
                     f"{street.district.name}{street.name}{rng.choice(street.roads)}"
                     f"{rng.randint(1, 300)}号")
            self.orgs[name] = found
        return found

    def _parties(self, scenario, community, estate, flat, case_id, t) -> list:
        """Rows of the case's parties; also (name, phone, address, role, kind, community)."""
        rng = self.rng
        made = []
        used = set()
        kin_surname = None
        building, unit, floor, room = flat
        district = community.street.district.name
        street = community.street.name
        created = self.ts(t)
        for role, kind, hints, optional in scenario["parsed"]:
            if optional and rng.random() < 0.45:
                continue
            party_id = self._id("parties")
            if kind != "P":
                name, uscc, representative, title, phone, address = \
                    self._organisation(kind, community)
                agent = agent_phone = None
                if rng.random() < 0.6:
                    agent, agent_phone = person_name(rng), mobile(rng)
                row = (party_id, case_id, role, "organisation", name, None, None, None, None,
                       None, None, None, None, phone, address, None, uscc, representative,
                       title, agent, agent_phone, int(agent is not None), 0, created)
                made.append((row, name, phone, address, role, None, None))
                used.add(name)
                continue
            first = role == "applicant" and kin_surname is None
            if first and scenario["rental"] and rng.random() < 0.6:
                (name, gender, ethnicity, birth, occupation, id_type, encrypted, index,
                 masked, phone, address, home, year) = rng.choice(self.landlords)
                row = (party_id, case_id, role, "person", name, gender, ethnicity, birth,
                       occupation, id_type, encrypted, index, masked, phone, address, home,
                       None, None, None, None, None, 0, 0, created)
                kin_surname = name[0]
                made.append((row, name, phone, address, role, home, year))
                used.add(name)
                continue
            male = "m" in hints or ("f" not in hints and rng.random() < 0.55)
            if "old" in hints:
                year = rng.randint(1938, 1958)
            elif "young" in hints:
                year = rng.randint(1988, 2003)
            elif "mid" in hints or "worker" in hints:
                year = rng.randint(1963, 1988)
            else:
                year = rng.randint(1952, 1998)
            age = "old" if year < 1965 else "young"
            roll = rng.random()
            if "kin" in hints and kin_surname:
                ethnicity, surname, areas = "汉族", kin_surname, demo.LOCAL_AREAS
            elif roll < 0.06:
                ethnicity, surname, areas = "回族", rng.choice(demo.HUI_SURNAMES), demo.HUI_AREAS
            elif roll < 0.09:
                ethnicity, surname, areas = "满族", rng.choice(demo.MAN_SURNAMES), demo.MAN_AREAS
            else:
                ethnicity, surname, areas = "汉族", rng.choice(demo.SURNAMES), demo.LOCAL_AREAS
            if "worker" in hints:
                areas = demo.WORKER_AREAS
            given = GIVEN[("m" if male else "f", age)]
            name = surname + rng.choice(given)
            if name in used:
                name = surname + rng.choice(given)
            used.add(name)
            if first:
                kin_surname = surname
            home = community
            b, u, f, r = building, unit, floor, room
            if "up" in hints:
                f += 1
            elif first:
                pass
            elif role == "respondent" and rng.random() < 0.12:
                home = rng.choice([other for other in community.street.communities
                                   if other is not community])
                b, u, f, r = rng.randint(1, 30), rng.randint(1, 4), rng.randint(1, 17), \
                    rng.randint(1, 2)
            else:
                b, u, f, r = rng.randint(1, 32), rng.randint(1, 4), rng.randint(1, 17), \
                    rng.randint(1, 2)
            home_estate = estate if home is community else rng.choice(home.estates)
            if "worker" in hints:
                address = f"{district}{street}{community.name}{estate}工地宿舍"
            else:
                address = (f"{district}{home.street.name}{home.name}{home_estate}{b}号楼{u}单元"
                           f"{f}0{r}室")
            birth = date(year, rng.randint(1, 12), rng.randint(1, 28))
            occupation = rng.choice(demo.OCCUPATIONS[
                "old" if year < 1962 else "worker" if "worker" in hints else "default"])
            id_type = encrypted = index = masked = None
            if rng.random() < ID_NUMBER_SHARE:
                number = demo.id_number(rng, rng.choice(areas), birth, male)
                id_type, encrypted = "resident_id", self.encrypt(number)
                index, masked = self.blind_index(number), self._mask(number)
            agent = agent_phone = None
            if rng.random() < (0.35 if year < 1958 else 0.1):
                agent = (surname if year < 1958 else rng.choice(demo.SURNAMES)) + \
                    rng.choice(GIVEN[(rng.choice("mf"), "young")])
                agent_phone = mobile(rng)
            phone = mobile(rng)
            row = (party_id, case_id, role, "person", name, "male" if male else "female",
                   ethnicity, birth.isoformat(), occupation, id_type, encrypted, index, masked,
                   phone, address, home.id, None, None, None, agent, agent_phone,
                   int(agent is not None), 0, created)
            made.append((row, name, phone, address, role, home.id, year))
        return made

    # -- helpers for the timeline ---------------------------------------------------------
    def _work(self, t: int, lo: float, hi: float) -> int:
        """``lo``–``hi`` hours later, moved into working hours (8:00–19:00 in China)."""
        t += int(self.rng.uniform(lo, hi) * 3600)
        local = (t + OFFSET) % DAY
        if local < 8 * 3600:
            t += 8 * 3600 - local + self.rng.randint(0, 5400)
        elif local >= 19 * 3600:
            t += DAY - local + 8 * 3600 + self.rng.randint(0, 5400)
        return t

    def _handler(self, grid, level: str) -> tuple:
        if level == "grid":
            return grid.worker
        if level == "community":
            return grid.community.mediator
        street = grid.community.street
        return street.mediator if self.rng.random() < 0.8 else street.coordinator

    def _decider(self, grid, level: str) -> tuple:
        return grid.community.mediator if level == "community" else \
            grid.community.street.coordinator

    def _number(self, t: int) -> tuple[str, int, int]:
        year = date.fromordinal((t + OFFSET) // DAY + 719163).year
        seq = self.seq.get(year, 0) + 1
        self.seq[year] = seq
        return f"{year}-{seq:06d}", year, seq

    def _when(self, t: int) -> str:
        local = t + OFFSET
        return self.day(local // DAY) + f" {local % DAY // 3600:02d}:{local % 3600 // 60:02d}"

    # -- one case -------------------------------------------------------------------------
    def case(self, t0: int, kind: str, plan) -> None:
        rng = self.rng
        case_id = self._id("cases")
        grid = rng.choice(self.city.grids)
        community = grid.community
        street = community.street
        if kind == "open":
            state, level, start, category, entered_day = plan
            outcome = None
        else:
            if kind == "closed":
                outcome = _pick(rng, _CLOSED)
                state = "closed"
            else:
                state, outcome = _pick(rng, _RECENT)
            category = _pick(rng, self.category_choice)
            level = _pick(rng, _FINAL)
            start = level if outcome == "declined" else _pick(rng, _START[level])
        code = category[1]
        scenario = rng.choice(self.scenarios.get(code) or self.scenarios["other"])

        # Who reported it, how it reached us.
        if start == "grid" and rng.random() < RESIDENT_REPORTS:
            source, reporter = "resident_report", (None, "")
        else:
            allowed = SOURCES_AT[start]
            preferred = [s for s in scenario["sources"] if s in allowed]
            source = rng.choice(preferred) if preferred and rng.random() < 0.8 else \
                rng.choice(allowed)
            reporter = grid.worker if start == "grid" else community.mediator \
                if start == "community" else street.coordinator

        risks = {name: rng.random() < p for name, p in scenario["risk_items"]}
        present = [name for name, on in risks.items() if on]
        risk_level = "high" if (risks.get("violence_threat") or risks.get("criminal_risk")
                                or len(present) >= 3) else "medium" if present else "low"
        amount = pay = None
        if scenario["amount"]:
            lo, hi = scenario["amount"]
            step = 100 if hi < 50_000 else 1000
            amount = round(rng.uniform(lo, hi) / step) * step
            pay = round(amount * rng.uniform(0.5, 0.9) / 100) * 100 or None
        estate, building = rng.choice(grid.buildings)
        flat = (building, rng.randint(1, 4), rng.randint(2, 16), rng.randint(1, 2))
        parties = self._parties(scenario, community, estate, flat, case_id, t0)

        # The words.
        number, year, seq = self._number(t0)
        reported_day = (t0 + OFFSET) // DAY
        incident = date.fromordinal(reported_day - rng.randint(1, 12) + 719163)
        applicants = [p for p in parties if p[4] == "applicant"]
        respondents = [p for p in parties if p[4] == "respondent"]
        thirds = [p for p in parties if p[4] == "third_party"]
        template = scenario["title"] + scenario["story"]
        others = respondents[1:] + thirds if "{b}、{c}" in template else \
            thirds + respondents[1:] + applicants[1:]
        first = applicants[0]
        district = street.district.name
        road = rng.choice(street.roads)
        building, unit, floor, room = flat
        reported_year = date.fromordinal(reported_day + 719163).year
        values = {
            "a": first[1], "b": respondents[0][1] if respondents else parties[-1][1],
            "c": others[0][1] if others else "", "xq": estate,
            "addr": f"{estate}{building}号楼{unit}单元{floor}0{room}室",
            "addr2": f"{estate}{building}号楼{unit}单元{floor + 1}0{room}室",
            "road": road, "community": community.name, "street": street.name,
            "m": incident.month, "d": incident.day, "y": reported_year - rng.randint(1, 5),
            "age": reported_year - (first[6] or 1970), "n": rng.randint(*scenario["n"]),
            "amt": amount or "", "pay": pay or "",
            "month": f"{(incident.month % 12) + 1}月",
        }
        title = scenario["title"].format(**values)[:120]
        story = scenario["story"].format(**values)
        story += "".join(demo.RISK_SENTENCES[name] for name in present
                         if demo.RISK_SENTENCES[name][:4] not in story)
        terms = scenario["terms"].format(**values)
        if "{road}" in scenario["story"]:
            address = f"{district}{street.name}{road}"
        elif first[5] is not None and "{xq}" not in scenario["story"]:
            address = first[3]
        else:
            address = f"{district}{street.name}{community.name}{values['addr']}"

        # The life.
        life = _Life(self, case_id, grid, category, parties, risk_level, amount, reporter,
                     t0, start, source)
        if kind == "open":
            life.open_case(state, level, entered_day)
        else:
            life.finished(state, outcome, level, terms, pay)
        life.emit(title, story, terms, pay)

        ts = self.ts
        self._add("cases", (
            case_id, number, year, seq, title, source, grid.id, category[0], story, address,
            amount * 100 if amount is not None else None, int(risks.get("violence_threat", 0)),
            int(risks.get("criminal_risk", 0)), int(risks.get("vulnerable_party", 0)),
            int(risks.get("group_dispute", 0)), int(risks.get("repeat_petition", 0)),
            risk_level, life.state, life.level, ts(life.entered), life.level_deadline,
            self.day(life.overall_deadline), life.handler[0] if life.handler else None,
            reporter[0], ts(t0), ts(life.accepted) if life.accepted else None,
            ts(life.outcome_at) if life.outcome_at else None,
            ts(life.closed) if life.closed else None, ts(life.updated), life.decline_reason,
            life.referred_to, life.oral_agreement, life.routes_told, life.settled_level,
            life.outcome, 1, int(life.proposal_waiting)))
        body = document(number, title, story, address, [(p[1], p[2], p[3]) for p in parties])
        if self.search_bigrams:
            self._add("case_search", (case_id, grid.id, body, _array(bigrams(body))))
        else:
            self._add("case_search", (case_id, grid.id, body))
        for party in parties:
            self._add("parties", party[0])
        self.states[life.state] = self.states.get(life.state, 0) + 1

        if rng.random() < self.access_share:
            issued = ts(t0)
            for party in parties:
                if party[2]:
                    code = f"{rng.randrange(100_000_000):08d}"
                    self._add("access_codes", (party[0][0], self.code_hash(number, code),
                                               issued, reporter[0]))
                    self.access_codes.append((number, code))


_CLOSED = _weighted(CLOSED_OUTCOMES)
_RECENT = _weighted(RECENT_MIX)
_FINAL = _weighted(FINAL_LEVEL)
_START = {level: _weighted(pairs) for level, pairs in START_LEVEL.items()}
_SATISFACTION = _weighted(SATISFACTION)


class _Life:
    """What happened to one case: its state and level, and the rows of its timeline."""

    def __init__(self, maker: Disputes, case_id, grid, category, parties, risk_level, amount,
                 reporter, t0, start, source):
        self.m = maker
        self.rng = maker.rng
        self.case_id, self.grid, self.category = case_id, grid, category
        self.parties, self.risk_level, self.amount = parties, risk_level, amount
        self.reporter, self.t0, self.source = reporter, t0, source
        self.state, self.level, self.entered = "reported", start, t0
        self.handler = None
        self.accepted = self.outcome_at = self.closed = None
        self.level_deadline = None
        self.overall_deadline = (t0 + OFFSET) // DAY + category[3]
        self.decline_reason = self.referred_to = self.oral_agreement = None
        self.proposal_waiting = False  # an open proposal was made (Case.proposal_waiting)
        self.routes_told = self.settled_level = self.outcome = None
        self.events: list[tuple] = []
        self.updated = t0
        self.co_handlers: set[int] = set()
        self.volunteer = None
        self.written = self.draft = False
        self.rating_at = self.help_at = self.supervise_at = self.scheduled = None

    # -- the timeline's pieces ------------------------------------------------------------
    def event(self, t, actor, kind, from_state=None, to_state=None, from_level=None,
              to_level=None, reason=None, data=None) -> None:
        if data is not None and data.__class__ is not str:
            data = json.dumps(data)
        self.events.append((t, actor, kind, from_state, to_state, from_level, to_level,
                            reason, data))

    def last(self) -> int:
        return max(e[0] for e in self.events)

    def move_to(self, state: str, t: int, actor, reason=None, data=None) -> None:
        self.event(t, actor, "state", self.state, state, reason=reason, data=data)
        self.state = state

    def deadline_of(self, entered: int, level: str) -> int:
        return (entered + OFFSET) // DAY + self.category[2][level]

    def acting(self) -> tuple:
        """Who acts for the case now: its handler, else whoever handles its level."""
        if self.handler is None:
            self.handler_if_none = getattr(self, "handler_if_none", None) or \
                self.m._handler(self.grid, self.level)
            return self.handler_if_none
        return self.handler

    def _proposal(self, rule: str, to: str, reason: str, created: int, by, status: str,
                  decided=None, decider=None, note=None) -> int:
        m = self.m
        proposal_id = m._id("escalation_proposals")
        self.proposal_waiting |= status == "open"
        m._add("escalation_proposals", (
            proposal_id, self.case_id, rule, self.level, to, reason, status, m.ts(created),
            by[0] if by else None, m.ts(decided) if decided else None,
            decider[0] if decider else None, note))
        self.event(created, by[0] if by else None, "proposal", from_level=self.level,
                   to_level=to, reason=reason, data=f'{{"rule": "{rule}"}}')
        if status == "dismissed":
            self.event(decided, decider[0], "proposal", reason=note,
                       data={"rule": rule, "dismissed": True})
        return proposal_id

    def _rule_reason(self, rule: str, to: str) -> str:
        m = self.m
        texts = m.texts
        if rule == "high_risk":
            return texts.high_risk
        if rule == "amount_over_limit":
            limit = m.level_rules[self.level][0] or 0
            return texts.over_limit % {"amount": f"{self.amount:,}.00",
                                       "level": texts.level[self.level],
                                       "limit": f"{limit // 100:,}"}
        if rule == "cross_community":
            return texts.cross % {"n": len(self.communities())}
        if rule == "deadline_passed":
            return texts.deadline_passed % {
                "level": texts.level[self.level],
                "date": m.day(self.deadline_of(self.entered, self.level))}
        return f"案情复杂、双方分歧较大，申请提级由{demo.LEVEL_ZH[to]}人民调解委员会调解。"

    def communities(self) -> set:
        return {p[5] for p in self.parties if p[5]}

    def escalate(self, to: str, asked: int, t: int, rule: str | None) -> None:
        """A proposal (the rules' or the handler's) confirmed by someone at ``to``, or (no
        rule) a move decided there directly."""
        rng, m = self.rng, self.m
        decider = m._decider(self.grid, to)
        proposal_id = None
        if rule is None:
            reason = "经研判，提级办理。"
        else:
            asker = self.handler if rule == "mediator_request" else None
            note = demo.CONFIRM_NOTES[_RULES[rule]] if rng.random() < 0.7 else None
            asked_reason = self._rule_reason(rule, to)
            proposal_id = self._proposal(rule, to, asked_reason, asked, asker, "confirmed", t,
                                         decider, note)
            reason = f"{asked_reason} {note}" if note else asked_reason
        before = self.level
        self.level, self.entered = to, t
        self.event(t, decider[0], "level", from_level=before, to_level=to, reason=reason,
                   data={"proposal": proposal_id, "deadline": m.day(self.deadline_of(t, to))})
        if self.handler is not None:
            previous = self.handler
            self.handler = m._handler(self.grid, to)
            if self.handler[0] != previous[0]:
                self.event(t, decider[0], "assignment",
                           reason=m.texts.handler % {"name": self.handler[1]})
                if rng.random() < 0.4 and previous[0] not in self.co_handlers:
                    self.assign(previous, "co_handler", t, decider)

    def assign(self, user, role: str, t: int, by) -> None:
        m = self.m
        m._add("case_assignments", (m._id("case_assignments"), self.case_id, user[0], role,
                                    m.ts(t)))
        self.co_handlers.add(user[0])
        self.event(t, by[0] if by else None, "assignment",
                   reason=m.texts.assigned % {"role": m.texts.role[role], "name": user[1]})

    def accept(self, t: int) -> None:
        m = self.m
        self.handler = m._handler(self.grid, self.level)
        actor = self.grid.community.street.coordinator if self.level == "street" \
            else self.handler
        self.move_to("accepted", t, actor[0], data=f'{{"handler_id": {self.handler[0]}}}')
        self.accepted = t

    def session(self, starts: int, created: int, status: str) -> None:
        """A session with the parties and the handler: held, or still to come."""
        m, rng = self.m, self.rng
        street = self.grid.community.street
        minutes = rng.choice([60, 90, 90, 120])
        place, room_id, address, link = "on_site", None, None, None
        roll = rng.random()
        if roll < 0.3:  # in a room of the street's (or the district's) centre, if one is free
            local_day, time_of_day = divmod(starts + OFFSET, DAY)
            slots = [slot for slot in _SLOTS if slot <= time_of_day]
            if slots:
                slot = rng.choice(slots)
                for room, _centre_address in rng.sample(street.rooms, len(street.rooms)):
                    if (room, local_day, slot) not in m.used_slots:
                        m.used_slots.add((room, local_day, slot))
                        place, room_id, minutes = "room", room, 90
                        starts = local_day * DAY - OFFSET + slot
                        break
        if place == "on_site" and roll < 0.9:
            address = f"{self.grid.community.name}党群服务中心调解室" if rng.random() < 0.5 \
                else self.parties[0][3]
        elif place == "on_site":
            place, link = "video", f"https://meeting.example.cn/j/{rng.randrange(10**9):09d}"
        ends = starts + minutes * 60
        purpose = rng.choice(_PURPOSES)
        session_id = m._id("mediation_sessions")
        m._add("mediation_sessions", (session_id, self.case_id, m.ts(starts), m.ts(ends), place,
                                      room_id, address, link, purpose, status,
                                      self.handler[0], m.ts(created), 1))
        held = status == "held"
        m._add("session_participants", (m._id("session_participants"), session_id,
                                        "lead_mediator", self.handler[0], None, None, None,
                                        "attended" if held else "confirmed", 0))
        for party in self.parties:
            m._add("session_participants", (m._id("session_participants"), session_id,
                                            "party", None, party[0][0], None, None,
                                            "attended" if held else "invited", int(held)))
        self.event(created, self.handler[0], "session",
                   reason=m.texts.session % {"when": m._when(starts), "purpose": purpose},
                   data={"session": session_id})

    def supervise_auto(self, deadline: int, message: str) -> None:
        """What check-deadlines issues the night after a time limit ended."""
        m = self.m
        issued = min(deadline * DAY - OFFSET + DAY + self.rng.randint(3600, 7200), m.limit)
        m._add("supervision_notices", (
            m._id("supervision_notices"), self.case_id, self.level, m.day(deadline), 1,
            m.ts(issued), None, self.handler[0] if self.handler else None, message, None, None,
            None, None))
        self.event(issued, None, "supervision", reason=message,
                   data={"respond_by": None, "automatic": True})

    def supervise(self, t: int, answered_at: int | None) -> None:
        """督办 by the street's coordinator, answered by the handler (or not yet)."""
        m, rng = self.m, self.rng
        coordinator = self.grid.community.street.coordinator
        respond_by = (t + OFFSET) // DAY + rng.choice([2, 3])
        by_day = date.fromordinal(respond_by + 719163)
        message = demo.SUPERVISION_FOCUS.format(reason="存在矛盾激化风险") \
            if self.risk_level == "high" else demo.SUPERVISION_RED.format(
                level=demo.LEVEL_ZH[demo.Level(self.level)],
                date=f"{by_day.month}月{by_day.day}日")
        answer = rng.choice(demo.SUPERVISION_ANSWERS) if answered_at else None
        handler = self.acting()
        m._add("supervision_notices", (
            m._id("supervision_notices"), self.case_id, self.level, None, 0, m.ts(t),
            coordinator[0], handler[0], message, m.day(respond_by), answer,
            m.ts(answered_at) if answered_at else None, handler[0] if answered_at else None))
        self.event(t, coordinator[0], "supervision", reason=message,
                   data={"respond_by": m.day(respond_by), "automatic": False})
        if answered_at:
            self.event(answered_at, handler[0], "supervision", reason=answer,
                       data={"response": True})

    def help_request(self, t: int, answered_at: int | None) -> None:
        m = self.m
        department, detail, message, response = m.help[self.category[1]]
        street = self.grid.community.street
        detail = detail.replace("东湖区", street.district.name).format(
            police=street.police, short=street.base)
        by = self.acting() if self.level != "grid" else self.grid.community.mediator
        m._add("help_requests", (m._id("help_requests"), self.case_id, department, detail,
                                 message, m.ts(t), by[0], response if answered_at else None,
                                 m.ts(answered_at) if answered_at else None))
        self.event(t, by[0], "help", reason=message,
                   data={"department": department, "detail": detail})
        if answered_at:
            self.event(answered_at, by[0], "help", reason=response,
                       data={"department": department, "response": True})

    def _moves(self, level: str, t: int, intake: bool) -> None:
        """From the current level up to ``level``, the last move at ``t``."""
        rng = self.rng
        path = [level] if self.level == "community" or level == "community" or \
            rng.random() < 0.5 else ["community", "street"]
        previous = self.last()
        for i, to in enumerate(path):
            at = t if i == len(path) - 1 else int(previous + (t - previous) / 2)
            asked = int(previous + (at - previous) * rng.uniform(0.2, 0.8))
            self.escalate(to, asked, at, self._rule(to, intake))
            previous = at

    def _rule(self, to: str, intake: bool) -> str | None:
        """Why the case moves to ``to``: a rule's proposal, the handler's request, or none
        (decided directly at intake)."""
        nxt = LEVELS[RANK[self.level] + 1]
        if not intake:
            if to == nxt and self.rng.random() < 0.4:
                return "deadline_passed"
            return "mediator_request"
        if self.risk_level == "high" and to == "street":
            return "high_risk"
        limit = self.m.level_rules[self.level][0]
        if to == nxt and self.amount is not None and limit is not None and \
                self.amount * 100 > limit:
            return "amount_over_limit"
        if len(self.communities()) > 1 and to == "street":
            return "cross_community"
        return None

    # -- an open case ---------------------------------------------------------------------
    def open_case(self, state: str, level: str, entered_day: int) -> None:
        m, rng = self.m, self.rng
        t0, start = self.t0, self.level
        self.event(t0, self.reporter[0], "state", to_state="reported", to_level=start,
                   data=f'{{"source": "{self.source}"}}')
        room = m.limit - 600
        entered = t0
        if level != start:
            entered = entered_day * DAY - OFFSET + rng.randint(9 * 3600, 17 * 3600)
            entered = max(t0 + 1800, min(entered, room - 3 * 3600))
        steps = ["accept"] if state != "reported" else []
        if state == "in_mediation":
            steps.append("start")
        mid = level != start and steps and rng.random() < 0.5
        if mid:  # accepted (and started) below, then moved up
            for step, t in zip(steps, sorted(rng.uniform(t0, entered) for _s in steps),
                               strict=True):
                self._step(step, int(t))
            self._moves(level, entered, intake=False)
        else:
            if level != start:
                self._moves(level, entered, intake=True)
            span = min(room, entered + int(rng.uniform(0.2, 3) * DAY * len(steps) + 3600))
            for step, t in zip(steps, sorted(rng.uniform(entered, span) for _s in steps),
                               strict=True):
                self._step(step, int(t))
        deadline = self.deadline_of(self.entered, self.level)
        self.level_deadline = m.day(deadline)
        self._current_proposals(deadline)
        if self.state == "in_mediation":
            last = self.last()
            for _i in range(rng.choice([0, 0, 1, 2])):
                last = min(room, last + rng.randint(3600, 2 * DAY))
                self.event(last, self.handler[0], "note",
                           reason=rng.choice(demo.NOTES[demo.Level(self.level)]))
            if self.level != "grid" and rng.random() < UPCOMING_SESSION:
                starts = (m.today + rng.randint(1, 14)) * DAY - OFFSET + \
                    rng.choice([9, 10, 14, 15]) * 3600
                self.session(starts, min(room, last + rng.randint(600, DAY)), "planned")
            self.draft = self.level != "grid" and rng.random() < 0.1
        # What last night's deadline check left: notices for the time limits that passed.
        if m.today > deadline:
            self.supervise_auto(deadline, m.texts.auto_level % {
                "level": m.texts.level[self.level], "date": m.day(deadline)})
            if rng.random() < 0.15:
                issued = min(room, deadline * DAY - OFFSET + DAY + rng.randint(9, 11) * 3600)
                answered = issued + rng.randint(2, 20) * 3600 if rng.random() < 0.5 else None
                self.supervise(issued, answered if answered and answered < room else None)
        if m.today > self.overall_deadline and self.overall_deadline != deadline:
            self.supervise_auto(self.overall_deadline, m.texts.auto_overall % {
                "date": m.day(self.overall_deadline)})

    def _step(self, step: str, t: int) -> None:
        if step == "accept":
            self.accept(t)
        else:
            self.move_to("in_mediation", t, self.handler[0])

    def _current_proposals(self, deadline: int) -> None:
        """The rules' proposals at the current level: each waits, or a person dismissed it."""
        if self.level == "street":
            return
        m, rng = self.m, self.rng
        nxt = LEVELS[RANK[self.level] + 1]
        found = []
        if m.today > deadline:
            found.append(("deadline_passed", nxt,
                          min(m.limit - 600, deadline * DAY - OFFSET + DAY + 4000)))
        if self.risk_level == "high":
            found.append(("high_risk", "street", self.entered + 60))
        limit = m.level_rules[self.level][0]
        if self.amount is not None and limit is not None and self.amount * 100 > limit:
            found.append(("amount_over_limit", nxt, self.entered + 60))
        if len(self.communities()) > 1:
            found.append(("cross_community", "street", self.entered + 60))
        for rule, to, created in found:
            reason = self._rule_reason(rule, to)
            if rng.random() < 0.7:
                self._proposal(rule, to, reason, created, None, "open")
            else:
                decider = m._decider(self.grid, to)
                decided = min(m.limit - 60, created + rng.randint(1800, 8 * 3600))
                self._proposal(rule, to, reason, created, None, "dismissed", decided, decider,
                               demo.DISMISS_NOTES[_RULES[rule]])

    # -- a case with an outcome -----------------------------------------------------------
    def finished(self, state: str, outcome: str, level: str, terms: str, pay) -> None:
        """Reported, perhaps moved up, accepted, mediated, its outcome, follow-up, closed."""
        m, rng = self.m, self.rng
        start = self.level
        code = self.category[1]
        if outcome == "declined":
            reach = "reported"
        elif outcome == "withdrawn":
            reach = rng.choice(["reported", "accepted", "in_mediation", "in_mediation"])
        elif outcome in ("failed", "referred_out"):
            reach = "accepted" if rng.random() < 0.25 else "in_mediation"
        else:
            reach = "in_mediation"
        if reach == "reported":
            level = start
        moves = level != start
        intake = moves and (reach == "reported" or rng.random() < 0.5)
        # The steps with the hours after the one before; then their moments, before now.
        plan = [("create", 0)]
        if intake:
            plan.append(("intake", rng.uniform(0.3, 6)))
        if outcome == "declined":
            plan.append(("decline", rng.uniform(2, 72)))
        else:
            if reach != "reported":
                plan.append(("accept", rng.uniform(1, 48)))
            if reach == "in_mediation":
                plan.append(("start", rng.uniform(1, 72)))
                if moves and not intake:
                    plan.append(("move", rng.uniform(24, 160)))
                plan += [("note", rng.uniform(4, 96))] * rng.choice([0, 1, 1, 2])
                above = level != "grid"
                if above and code in demo.OPINIONS and rng.random() < 0.03:
                    plan += [("legal_aid", rng.uniform(2, 48)), ("opinion", rng.uniform(4, 72))]
                if code in m.help and rng.random() < 0.03:
                    plan += [("help", rng.uniform(2, 48)), ("help_answer", rng.uniform(4, 96))]
                if rng.random() < 0.02:
                    plan += [("supervise", rng.uniform(2, 48)), ("answer", rng.uniform(2, 30))]
                if above and rng.random() < HELD_SESSION:
                    plan += [("schedule", rng.uniform(2, 24)), ("session", rng.uniform(24, 120))]
            elif moves and not intake:
                plan.append(("move", rng.uniform(24, 120)))
            plan.append(("outcome", rng.uniform(*OUTCOME_HOURS[level])))
        follow_up = outcome in ("settled", "partly_settled", "failed", "referred_out") and (
            state == "follow_up" or (state == "closed" and rng.random() < 0.6))
        if follow_up:
            plan.append(("follow_up", rng.uniform(72, 480)))
        if state == "closed":
            plan.append(("close", rng.uniform(2, 96)))
        if rng.random() < 0.25 and outcome not in ("declined", "withdrawn"):
            plan.append(("rating", rng.uniform(24, 240)))
        times = [self.t0]
        for _name, hours in plan[1:]:
            times.append(m._work(times[-1], hours, hours))
        if times[-1] > m.limit:  # squeezed into the time there was
            span = sum(hours for _n, hours in plan) or 1
            room = m.limit - self.t0
            times, t = [self.t0], self.t0
            for _name, hours in plan[1:]:
                t += max(1, int(room * hours / span))
                times.append(min(t, m.limit))

        self.event(self.t0, self.reporter[0], "state", to_state="reported", to_level=start,
                   data=f'{{"source": "{self.source}"}}')
        for (name, _hours), t in zip(plan, times, strict=True):
            if name == "create":
                continue
            if name in ("intake", "move"):
                self._moves(level, t, intake=name == "intake")
            elif name == "decline":
                self.decline(t)
            elif name == "accept":
                self.accept(t)
            elif name == "start":
                self.move_to("in_mediation", t, self.handler[0])
            elif name == "note":
                self.event(t, self.handler[0], "note",
                           reason=rng.choice(demo.NOTES[demo.Level(self.level)]))
            elif name == "legal_aid":
                volunteer = rng.choice(m.city.legal_aid)
                by = self.handler if self.level != "grid" else self.grid.community.mediator
                self.assign(volunteer, "legal_aid", t, by)
                self.volunteer = volunteer
            elif name == "opinion":
                self.event(t, self.volunteer[0], "opinion", reason=demo.OPINIONS[code])
            elif name == "help":
                self.help_at = t
            elif name == "help_answer":
                self.help_request(self.help_at, t)
            elif name == "supervise":
                self.supervise_at = t
            elif name == "answer":
                self.supervise(self.supervise_at, t)
            elif name == "schedule":
                self.scheduled = t
            elif name == "session":
                self.session(t, self.scheduled, "held")
            elif name == "outcome":
                self.record_outcome(t, outcome, terms)
            elif name == "follow_up":
                self.follow_up(t, outcome, pay)
            elif name == "close":
                note = _CLOSING.get(outcome, "回访完毕，结案归档。" if follow_up else "结案归档。")
                self.move_to("closed", t, self.acting()[0], reason=note)
                self.closed = t
            elif name == "rating":
                self.rating_at = t
        self.level_deadline = None
        self.written = self.outcome == "settled" and self.oral_agreement is None and \
            self.level != "grid" and rng.random() < WRITTEN_AGREEMENT

    def decline(self, t: int) -> None:
        rng = self.rng
        code = self.category[1]
        street = self.grid.community.street
        kind, reason, referred = rng.choice([d for d in demo.DECLINES
                                             if d[0] not in demo.DECLINE_FITS
                                             or code in demo.DECLINE_FITS[d[0]]])
        respondent = next((p for p in self.parties if p[4] == "respondent"), self.parties[-1])
        reason = reason.replace("东湖区", street.district.name).format(b=respondent[1])
        data = {"decline_reason": reason}
        if kind != "refusal":
            self.referred_to = referred.replace("东湖区", street.district.name).format(
                police=street.police)
            data["referred_to"] = self.referred_to
        self.move_to("declined", t, self.acting()[0], reason=reason, data=data)
        self.decline_reason = reason
        self.outcome, self.outcome_at = "declined", t

    def record_outcome(self, t: int, outcome: str, terms: str) -> None:
        rng = self.rng
        street = self.grid.community.street
        actor = self.acting()[0]
        if outcome == "settled":
            if self.level == "grid" and rng.random() < 0.7:
                self.oral_agreement = terms
                self.move_to("settled", t, actor, reason="双方当场达成口头协议，已登记。",
                             data={"oral_agreement": terms})
            else:
                self.move_to("settled", t, actor, reason="经调解达成书面调解协议：" + terms,
                             data='{"oral_agreement": null}')
            self.settled_level = self.level
        elif outcome == "partly_settled":
            self.move_to("partly_settled", t, actor, reason=demo.PARTLY,
                         data='{"oral_agreement": null}')
            self.settled_level = self.level
        elif outcome == "failed":
            routes = ["arbitration", "court"] if self.category[1] in ("labour", "wage_arrears") \
                else rng.choice([["court"], ["administrative", "court"]])
            self.move_to("failed", t, actor, reason=rng.choice(demo.FAILURES),
                         data={"routes_told": routes})
            self.routes_told = json.dumps(routes)
        elif outcome == "withdrawn":
            self.move_to("withdrawn", t, actor, reason=rng.choice(demo.WITHDRAWALS))
        else:
            body, reason = demo.REFERRALS.get(self.category[1], demo.DEFAULT_REFERRAL)
            body = body.replace("东湖区", street.district.name)
            self.move_to("referred_out", t, actor, reason=reason, data={"referred_to": body})
            self.referred_to = body
        self.outcome, self.outcome_at = outcome, t

    def follow_up(self, t: int, outcome: str, pay) -> None:
        m, rng = self.m, self.rng
        visitor = self.grid.worker if rng.random() < 0.5 else self.acting()
        remaining = measures = None
        if rng.random() < 0.15:
            remaining, measures = rng.choice(demo.RESIDUAL_RISKS)
        satisfaction = rng.choices([5, 4, 3], [55, 35, 10])[0]
        new_lawsuit = outcome == "failed" and rng.random() < 0.5
        performance = rng.choice(demo.FOLLOW_UPS_PAID if outcome == "settled" and pay
                                 else demo.FOLLOW_UPS[demo.S(outcome)])
        visited = m.day((t + OFFSET) // DAY)
        m._add("follow_ups", (m._id("follow_ups"), self.case_id, visited, visitor[0],
                              performance, satisfaction, int(new_lawsuit), remaining, measures,
                              m.ts(t)))
        self.move_to("follow_up", t, visitor[0], reason=m.texts.follow_up % {"date": visited})
        self.event(t, visitor[0], "follow_up", reason=performance, data={
            "satisfaction": satisfaction, "new_lawsuit": new_lawsuit,
            "remaining_risk": remaining, "visited_on": visited})

    # -- the rows -------------------------------------------------------------------------
    def emit(self, title: str, story: str, terms: str, pay) -> None:
        """The agreement, the rating and the timeline's rows (events in time order: the
        timeline lists them by id)."""
        m, rng = self.m, self.rng
        if self.written:
            self.agreement(title, story, terms, pay, issued=True)
        elif self.draft:
            self.agreement(title, story, terms, pay, issued=False)
        if self.rating_at and self.rating_at < m.limit:
            m._add("ratings", (m._id("ratings"), self.case_id, self.parties[0][0][0],
                               _pick(rng, _SATISFACTION),
                               rng.choice(RATING_COMMENTS) if rng.random() < 0.3 else None,
                               m.ts(self.rating_at)))
        self.events.sort(key=lambda e: e[0])
        ts, case_id, add = m.ts, self.case_id, m.rows["case_events"].append
        for t, actor, kind, from_state, to_state, from_level, to_level, reason, data in \
                self.events:
            add((m._id("case_events"), case_id, ts(t), actor, kind, from_state, to_state,
                 from_level, to_level, reason, data))
        self.updated = self.events[-1][0]

    def agreement(self, title: str, story: str, terms: str, pay, issued: bool) -> None:
        m, rng = self.m, self.rng
        community = self.grid.community
        if self.level == "street":
            committee_id, short_name = community.street.committee_id, community.street.name
        else:
            committee_id, short_name = community.committee_id, community.name
        agreement_id = m._id("agreements")
        handler = self.acting()
        if issued:
            t = self.outcome_at
            day = (t + OFFSET) // DAY
            issued_on = m.day(day)
            year = int(issued_on[:4])
            seq = m.agreement_seq.get((committee_id, year), 0) + 1
            m.agreement_seq[(committee_id, year)] = seq
            number = m.number_pattern.format(year=year, short_name=short_name, n=seq)
            raw = "".join(rng.choice(CODE_ALPHABET) for _i in range(16))
            code = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
            created = max(self.accepted or self.t0, t - rng.randint(3600, 3 * DAY))
            row = (agreement_id, self.case_id, committee_id, 1, "issued", story, title,
                   len(self.parties) + 1, handler[0], rng.choice(RECORDERS), 0, 0, year, seq,
                   number, code, m.ts(t), issued_on, handler[0], m.pdf, m.pdf_sha256,
                   issued_on, issued_on, issued_on, issued_on, m.ts(created), handler[0],
                   m.ts(t), 1)
            self.event(t, handler[0], "agreement",
                       reason=m.texts.agreement_issued % {"number": number},
                       data={"agreement_id": agreement_id, "number": number,
                             "sha256": m.pdf_sha256})
            signed, method = issued_on, "signature"
            due_day = day + rng.choice([0, 0, 7, 15, 30])
            due, performed = m.day(due_day), m.day(due_day) if due_day <= m.today else None
            on_the_spot = int(due_day == day)
        else:
            created = self.last()
            row = (agreement_id, self.case_id, committee_id, 1, "draft", story, title,
                   len(self.parties) + 1, handler[0], None, 0, 0, None, None, None, None,
                   None, None, None, None, None, None, None, None, None, m.ts(created),
                   handler[0], m.ts(created), 1)
            signed = method = due = performed = None
            on_the_spot = 0
        m._add("agreements", row)
        for position, party in enumerate(self.parties):
            m._add("agreement_parties", (m._id("agreement_parties"), agreement_id,
                                         party[0][0], position,
                                         "承担相应责任" if party[4] == "respondent" else "",
                                         signed, method))
        term_id = m._id("agreement_terms")
        m._add("agreement_terms", (term_id, agreement_id, 0, terms or title,
                                   pay * 100 if pay else None, rng.choice(PAY_METHODS), None,
                                   due, performed, on_the_spot))
        obligor = next((p for p in self.parties if p[4] == "respondent"), None)
        obligee = next((p for p in self.parties if p[4] == "applicant"), None)
        if obligor and obligee:
            m._add("agreement_term_parties", (term_id, obligor[0][0], "obligor", 0, None))
            m._add("agreement_term_parties", (term_id, obligee[0][0], "obligee", 1, None))


_RULES = {"high_risk": demo.ProposalRule.HIGH_RISK,
          "amount_over_limit": demo.ProposalRule.AMOUNT_OVER_LIMIT,
          "cross_community": demo.ProposalRule.CROSS_COMMUNITY,
          "deadline_passed": demo.ProposalRule.DEADLINE_PASSED,
          "mediator_request": demo.ProposalRule.MEDIATOR_REQUEST}
# Sessions in a centre's room start at one of these times (seconds after local midnight).
_SLOTS = [9 * 3600, 10 * 3600 + 1800, 14 * 3600, 15 * 3600 + 1800]
_CLOSING = {"withdrawn": "撤回调解，结案归档。", "declined": "不予受理，结案归档。"}
_PURPOSES = ["第一次调解：听取双方陈述，核实争议事实", "组织双方面对面调解",
             "第二次调解：就责任承担和具体方案继续协商", "宣读并签署人民调解协议书",
             "联合调解（司法所、派出所参加）：组织双方面对面调解"]


def _array(items: list[str]) -> str:
    """A PostgreSQL text[] literal (COPY's own escaping comes on top)."""
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for item in items) + "}"
