"""Benchmark: "check my case" (查询进度) answers a wrong code and an unknown case number in
the same time, so the time tells no one which case numbers exist.

The script makes its own app on a new SQLite database in a temporary folder (migrated,
then filled with ``--cases`` cases of two parties each, every party with an access code),
with the limits on guessing switched on as in production but raised far out of reach.
Through the test client it then sends ``--runs`` POSTs of each kind, alternating, so
that a busy machine slows both alike:

* wrong code: an existing case number (a different case each time) with a wrong code;
* unknown number: a well-formed case number no case has, with a code.

Each is timed from the request to the complete response, the server's whole work
(CSRF check, the limits' counters, the keyed hash, the lookup, the page).  The script
prints the median and the 95th percentile of both and their ratio (wrong/unknown), and
exits with 1 if the ratio of the medians is outside 0.8–1.25, or if an answer was not
the "not right" page.  tests/test_portal_status.py proves the same work without a clock:
the same SQL statements and the same HMAC work for both.

    .venv/bin/python bench/portal_timing.py [--cases 3000] [--runs 200]
"""

import argparse
import contextlib
import io
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from mediation import create_app  # noqa: E402
from mediation.areas import operations as area_ops  # noqa: E402
from mediation.cases.models import Case, Category, Party, PartyKind, PartyRole  # noqa: E402
from mediation.cases.operations import CaseInput, PartyInput, create_case  # noqa: E402
from mediation.cases.states import Source  # noqa: E402
from mediation.core.db import utcnow  # noqa: E402
from mediation.extensions import db  # noqa: E402
from mediation.portal import codes  # noqa: E402
from mediation.portal.models import AccessCode  # noqa: E402

LOW, HIGH = 0.8, 1.25
WRONG = "案件编号或查询码不正确"
UNLIMITED = "1000000 per hour"


def fill(cases: int, rng: random.Random) -> list[str]:
    """``cases`` cases of two parties with codes; their numbers.

    One case is registered through the operations; the others are copies of its rows
    (a new number each), inserted in bulk: a few seconds instead of minutes.
    """
    district = area_ops.create_area(None, parent=None, code="370699", name="测试区")
    street = area_ops.create_area(None, parent=district, code="370699001", name="和平街道")
    community = area_ops.create_area(None, parent=street, code="370699001001", name="东苑社区")
    grid = area_ops.create_area(None, parent=community, code="370699001001-01",
                                name="东苑第1网格")
    category = db.session.scalar(select(Category).where(Category.code == "other"))
    first = create_case(None, CaseInput(
        title="楼上装修噪音", source=Source.RESIDENT_REPORT, grid=grid, category=category,
        narrative="楼上每天夜里装修。", parties=[
            PartyInput(role=PartyRole.APPLICANT, kind=PartyKind.PERSON, name="赵桂兰",
                       phone="13905461234"),
            PartyInput(role=PartyRole.RESPONDENT, kind=PartyKind.PERSON, name="楼上住户",
                       phone="13912345678")]))
    db.session.commit()
    case_row = dict(db.session.execute(select(Case.__table__).where(
        Case.id == first.id)).mappings().one())
    party_rows = [dict(row) for row in db.session.execute(select(Party.__table__).where(
        Party.case_id == first.id).order_by(Party.id)).mappings()]
    year = case_row["year"]
    numbers = [first.number]
    new_cases = []
    for seq in range(first.seq + 1, first.seq + cases):
        row = {key: value for key, value in case_row.items() if key != "id"}
        row.update(number=f"{year}-{seq:06d}", seq=seq)
        new_cases.append(row)
        numbers.append(row["number"])
    db.session.execute(insert(Case.__table__), new_cases)
    ids = dict(db.session.execute(select(Case.number, Case.id)).all())
    new_parties = []
    for number in numbers[1:]:
        for template in party_rows:
            row = {key: value for key, value in template.items() if key != "id"}
            row.update(case_id=ids[number], phone=f"139{rng.randrange(10**8):08d}")
            new_parties.append(row)
    db.session.execute(insert(Party.__table__), new_parties)
    now = utcnow()
    db.session.execute(insert(AccessCode.__table__), [
        {"party_id": party_id, "issued_at": now, "issued_by_id": None,
         "code_hash": codes._hash(number, f"{rng.randrange(10**8):08d}")}
        for party_id, number in db.session.execute(
            select(Party.id, Case.number).join(Case, Party.case_id == Case.id))])
    db.session.commit()
    return numbers


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(13)

    folder = Path(tempfile.mkdtemp(prefix="portal-timing-"))
    try:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.sqlite3",
                         RATELIMIT_ENABLED=True, PORTAL_ADDRESS_RATE_LIMIT=UNLIMITED,
                         PORTAL_CASE_RATE_LIMIT=UNLIMITED)
        started = time.perf_counter()
        with app.app_context():
            with contextlib.redirect_stderr(io.StringIO()):  # the migrations' log
                upgrade(directory=str(ROOT / "migrations"))
            numbers = fill(args.cases, rng)
            parties = db.session.scalar(select(func.count()).select_from(AccessCode))
            db.session.remove()
        year = numbers[0][:4]
        print(f"SQLite, {len(numbers)} cases, {parties} parties with codes "
              f"(made in {time.perf_counter() - started:.1f} s); {args.runs} POSTs of each "
              f"kind, alternating")

        client = app.test_client()
        page = client.get("/status").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        known = set(numbers)
        unknown = [n for n in (f"{year}-{900000 + i:06d}" for i in range(1000))
                   if n not in known]

        def ask(number: str) -> float:
            code = f"{rng.randrange(10**8):08d}"
            started = time.perf_counter()
            response = client.post("/status", data={"csrf_token": token,
                                                    "case_number": number,
                                                    "access_code": code})
            spent = time.perf_counter() - started
            if response.status_code != 200 or WRONG not in response.get_data(as_text=True):
                raise SystemExit(f"FAIL {number}: answered {response.status_code}, not the "
                                 "“not right” page")
            return spent

        for _ in range(20):  # warm-up, not counted
            ask(rng.choice(numbers))
            ask(rng.choice(unknown))
        wrong, missing = [], []
        for _ in range(args.runs):
            wrong.append(ask(rng.choice(numbers)))
            missing.append(ask(rng.choice(unknown)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    rows = [("wrong code", wrong), ("unknown number", missing)]
    print(f"\n{'':16}{'median':>10}{'p95':>10}")
    for name, values in rows:
        print(f"{name:16}{statistics.median(values) * 1000:8.2f} ms"
              f"{percentile(values, 0.95) * 1000:8.2f} ms")
    ratio = statistics.median(wrong) / statistics.median(missing)
    p95_ratio = percentile(wrong, 0.95) / percentile(missing, 0.95)
    print(f"{'ratio':16}{ratio:10.3f}{p95_ratio:10.3f}  (wrong/unknown; the median's "
          f"limits {LOW}–{HIGH})")
    if not LOW <= ratio <= HIGH:
        print(f"FAIL the median ratio {ratio:.3f} is outside {LOW}–{HIGH}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
