"""Case numbers: one sequence per year, safe under concurrent intake on SQLite and PostgreSQL."""

import re
import threading

from cases_helpers import make_case, make_city
from sqlalchemy import select

from mediation.areas.models import AreaNode
from mediation.cases import operations, rules
from mediation.cases.models import Case, Category
from mediation.core.db import utcnow, write_intent
from mediation.extensions import db
from mediation.users.models import User


def _this_year() -> int:
    return rules.local_date(utcnow()).year


def test_numbers_are_sequential_within_the_year(app):
    city = make_city()
    year = _this_year()
    cases = [make_case(city.gridworker) for _ in range(3)]
    db.session.commit()
    assert [c.number for c in cases] == [f"{year}-000001", f"{year}-000002", f"{year}-000003"]
    assert all(re.fullmatch(r"\d{4}-\d{6}", c.number) for c in cases)
    assert [(c.year, c.seq) for c in cases] == [(year, 1), (year, 2), (year, 3)]


def test_a_new_year_starts_again_at_one(app):
    city = make_city()
    year = _this_year()
    make_case(city.gridworker)
    assert operations.allocate_number(2027) == ("2027-000001", 1)
    assert operations.allocate_number(2027) == ("2027-000002", 2)
    assert make_case(city.gridworker).number == f"{year}-000002"
    assert operations.allocate_number(2035) == ("2035-000001", 1)


def test_concurrent_intake_hands_out_distinct_sequential_numbers(app):
    city = make_city()
    ids = {"grid": city.east_1.id, "user": city.gridworker.id,
           "category": db.session.scalar(select(Category.id).where(Category.code == "noise"))}
    db.session.commit()  # and hold no transaction open while the intakes run
    start = threading.Barrier(4)
    errors = []

    def intake(n: int) -> None:
        with app.app_context():
            try:
                write_intent.set(True)
                start.wait(timeout=10)
                for i in range(5):
                    make_case(db.session.get(User, ids["user"]),
                              grid=db.session.get(AreaNode, ids["grid"]),
                              category=db.session.get(Category, ids["category"]),
                              title=f"夜间噪声扰民 {n}-{i}")
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=intake, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    year = _this_year()
    rows = db.session.execute(select(Case.number, Case.seq).order_by(Case.seq)).all()
    assert [seq for _number, seq in rows] == list(range(1, 21))
    assert [number for number, _seq in rows] == [f"{year}-{n:06d}" for n in range(1, 21)]
