"""Benchmark: server time of the staff's pages on a city-sized database.

    .venv/bin/python bench/scale.py DATABASE_URL [--label X] [--repeat 15]
        [--admin scale-admin] [--coordinator scale-coordinator] [--roles coordinator,admin]
        [--pages PREFIX,...] [--no-deadlines] [--out FILE]

DATABASE_URL is a migrated database filled by ``flask seed-scale --cases N`` (e.g.
``postgresql://postgres@127.0.0.1:5432/scale_1m`` or ``sqlite:////tmp/scale_100k.sqlite3``);
a database seeded with ``flask seed-demo`` works too with ``--admin admin --coordinator
coordinator``.  Without a URL the script prints this text and exits 0 (``make bench``).

The app is built in this process (the development configuration, so the database reads
with the same instance keys ``seed-scale`` wrote it with; debug and rate limits off) and
driven through Flask's test client.  As the street's coordinator and as the city's
administrator it logs in through the real pages: the password, then the second factor —
the account's factor is reset first with the app's own ``reset_two_factor`` and set up
anew on the enrolment page, the key read off the page and the code made with pyotp.  It
then asks each page 2 times to warm up and ``--repeat`` times measured, and prints the
median and the 95th percentile of the server time (``perf_counter`` around the test
client's call: routing, the view, its SQL, the template) and the SQL statements the
request sent.  Every answer must be 200, or the script stops.

The pages: the workbench ``/``; each queue; search on the queue page (a common
two-character given name, a 5-digit phone prefix, an estate or road name from the
addresses, a title word like 漏水, a full case number — all taken from the database so
they exist); a typical open case's page and the page of the case whose party (the same ID
number) appears in the most cases; ``GET /api/v1/cases`` without and with a filter on
state, level and category (a bearer token made with the app's own ``create_token``,
revoked afterwards); the statistics dashboard ``/stats/``.  Before the pages,
``flask check-deadlines`` runs once in this process (timed; it is idempotent, so a later
run times the steady state) with the number of open cases and the peak memory.

Results go to ``bench/results/<dialect>-<cases>.json`` (``--out`` to choose);
``bench/scale_table.py`` turns the files of all sizes into the README's table.
"""

import argparse
import json
import platform
import re
import resource
import statistics
import sys
import time
import unicodedata
from collections import Counter
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QUEUES = ("mine", "team", "awaiting", "proposals", "overdue", "all")
SAMPLE = 20000  # rows read to choose search terms from
CJK = re.compile(r"^[\u4e00-\u9fff]+$")
# An estate or a road in an address: 华庭小区, 明德花园, 文汇路 (before a house number).
PLACES = (re.compile(r"[\u4e00-\u9fff]{2}(?:小区|花园|家园|公寓|新村|山庄)"),
          re.compile(r"[\u4e00-\u9fff]{2}(?:大道|路|街|巷)(?=\d)"))


def usage_and_exit(parser: argparse.ArgumentParser) -> None:
    print(__doc__)
    parser.print_usage()
    sys.exit(0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", nargs="?")
    parser.add_argument("--label", default="", help="a note kept in the results (e.g. 'after')")
    parser.add_argument("--repeat", type=int, default=15, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--admin", default="scale-admin", help="the city's administrator")
    parser.add_argument("--coordinator", default="scale-coordinator",
                        help="the coordinator of one street")
    parser.add_argument("--roles", default="coordinator,admin")
    parser.add_argument("--pages", default="",
                        help="only pages whose key starts with one of these (comma-separated)")
    parser.add_argument("--no-deadlines", action="store_true",
                        help="do not run check-deadlines")
    parser.add_argument("--out", type=Path, help="default bench/results/<dialect>-<cases>.json")
    args = parser.parse_args()
    if not args.database_url:
        usage_and_exit(parser)
    return args


sys.path.insert(0, str(ROOT))
import pyotp  # noqa: E402
from sqlalchemy import desc, event, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from mediation import create_app, normalise_database_url  # noqa: E402
from mediation.api import tokens as api_tokens  # noqa: E402
from mediation.cases.access import visible_cases  # noqa: E402
from mediation.cases.models import Case, Category, Party  # noqa: E402
from mediation.cases.states import OPEN_STATES  # noqa: E402
from mediation.extensions import db  # noqa: E402
from mediation.users import operations as user_ops  # noqa: E402


class Failure(SystemExit):
    def __init__(self, message: str):
        super().__init__(f"FAIL {message}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` columns of a terminal (a Chinese character: 2)."""
    out, used = "", 0
    for char in text:
        wide = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + wide > width:
            break
        out, used = out + char, used + wide
    return out + " " * (width - used)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not match:
        raise Failure("no CSRF token on the page")
    return match.group(1)


def secret_from(html: str) -> str:
    match = re.search(r'id="totp-secret"[^>]*>([^<]+)<', html)
    if not match:
        raise Failure("no TOTP key on the enrolment page")
    return "".join(unescape(match.group(1)).split())


# ---- setting up ----------------------------------------------------------------------------

def build_app(url: str):
    return create_app("development", SQLALCHEMY_DATABASE_URI=url, DEBUG=False,
                      TEMPLATES_AUTO_RELOAD=False, RATELIMIT_ENABLED=False,
                      SESSION_COOKIE_SECURE=False, SQLALCHEMY_ECHO=False)


def account(username: str):
    user = user_ops.find_user(username)
    if user is None:
        raise Failure(f"no account {username!r} in this database (seed it with flask "
                      "seed-scale, or name the accounts with --admin/--coordinator, e.g. "
                      "admin/coordinator for flask seed-demo)")
    return user


def most_common(counter: Counter, fallback=None):
    return counter.most_common(1)[0][0] if counter else fallback


def pick_terms() -> dict:
    """Search terms that exist in this database (the same for both roles)."""
    people = db.session.execute(select(Party.name, Party.phone, Party.address)
                                .order_by(Party.id.desc()).limit(SAMPLE)).all()
    given = Counter(name[1:] for name, _p, _a in people
                    if name and len(name) == 3 and CJK.match(name))
    phones = Counter(phone[:5] for _n, phone, _a in people
                     if phone and len(phone) == 11 and phone.isdigit())
    cases = db.session.execute(select(Case.title, Case.address)
                               .order_by(Case.id.desc()).limit(SAMPLE)).all()
    addresses = [address for _t, address in cases if address] or \
        [address for _n, _p, address in people if address]
    places = Counter()
    for pattern in PLACES:
        places = places or Counter(m for a in addresses for m in pattern.findall(a))
    # A title word like 漏水: a word of the categories' names (房屋|漏水, 拖欠|工资) in
    # 0.5–5 % of the titles (more would be a word every case has, like 纠纷).
    names = db.session.scalars(select(Category.name)).all()
    words = {name[i:i + 2] for name in names if CJK.match(name) and len(name) in (2, 4)
             for i in range(0, len(name), 2)}
    titles = [title for title, _a in cases]
    found = Counter({w: sum(w in t for t in titles) for w in words})
    found = +found  # only the words some title has
    band = Counter({w: n for w, n in found.items() if 0.005 <= n / max(len(titles), 1) <= 0.05})
    return {"name": most_common(given), "phone": most_common(phones),
            "address": most_common(places), "title": most_common(band, most_common(found))}


def repeat_parties() -> list[tuple[str, int]]:
    """The ID numbers (their blind index) in the most cases, with how many cases."""
    cases = func.count(func.distinct(Party.case_id)).label("cases")
    return db.session.execute(
        select(Party.id_number_index, cases).where(Party.id_number_index.is_not(None))
        .group_by(Party.id_number_index).order_by(desc(cases)).limit(50)).all()


def case_pages(user, repeats: list[tuple[str, int]]) -> dict:
    """A typical open case the user may see, and the one whose party is in the most cases."""
    open_cases = visible_cases(user).where(Case.state.in_(OPEN_STATES)).order_by(Case.id.desc())
    typical = db.session.scalar(open_cases.limit(1).offset(100)) or \
        db.session.scalar(open_cases.limit(1))
    if typical is None:
        raise Failure(f"{user.username} sees no open case")
    found = {"typical": (typical.number, None)}
    for index, count in repeats:
        if count < 2:
            break
        number = db.session.scalar(visible_cases(user).with_only_columns(Case.number).where(
            Case.id.in_(select(Party.case_id).where(Party.id_number_index == index)))
            .order_by(Case.id.desc()).limit(1))
        if number:
            found["repeat"] = (number, count)
            break
    return found


def pages_for(user, terms: dict, cases: dict, category: str | None) -> list[dict]:
    """(key, description, path, headers) of every page measured for this account."""
    def queue(**args):
        return "/cases/?" + urlencode(args)

    pages = [("workbench", "workbench /", "/")]
    pages += [(f"queue-{q}", f"queue {q}", queue(queue=q)) for q in QUEUES]
    number = cases["typical"][0]
    for kind, term in (("name", terms["name"]), ("phone", terms["phone"]),
                       ("address", terms["address"]), ("title", terms["title"]),
                       ("number", number)):
        if term:
            pages.append((f"search-{kind}", f"search {kind} {term}", queue(queue="all", q=term)))
    pages.append(("case-typical", f"case {number}", f"/cases/{number}"))
    if "repeat" in cases:
        repeat, count = cases["repeat"]
        pages.append(("case-repeat", f"case {repeat} (party in {count} cases)",
                      f"/cases/{repeat}"))
    api = [("api-list", "API list", {}), ("api-state", "API state=closed", {"state": "closed"}),
           ("api-level", "API level=community", {"level": "community"})]
    if category:
        api.append(("api-category", f"API category={category}", {"category": category}))
    pages += [(key, text, "/api/v1/cases" + (f"?{urlencode(args)}" if args else ""))
              for key, text, args in api]
    pages.append(("stats", "dashboard /stats/", "/stats/"))
    return [{"key": k, "page": text, "path": path} for k, text, path in pages]


# ---- logging in and measuring --------------------------------------------------------------

def login(client, username: str, password: str) -> None:
    """The real login pages: password, then setting up the second factor if asked."""
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"csrf_token": csrf_from(page), "username": username,
                                           "password": password})
    location = response.headers.get("Location", "")
    if response.status_code != 302:
        raise Failure(f"the login of {username} was refused")
    if location.startswith("/login/code"):
        raise Failure(f"{username} still has a second factor after the reset")
    if location.startswith("/login/enrol"):
        page = client.get("/login/enrol").get_data(as_text=True)
        code = pyotp.TOTP(secret_from(page)).now()
        shown = client.post("/login/enrol", data={"csrf_token": csrf_from(page), "code": code})
        if shown.status_code != 200:
            raise Failure(f"the enrolment code of {username} was refused")
        response = client.post("/login/finish",
                               data={"csrf_token": csrf_from(shown.get_data(as_text=True))})
        location = response.headers.get("Location", "")
    if "/account/password" in location:
        raise Failure(f"{username} must change the password first")
    home = client.get("/")
    if home.status_code != 200 or 'action="/logout"' not in home.get_data(as_text=True):
        raise Failure(f"{username} is not logged in after the login pages")


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1


def measure(client, page: dict, counter: StatementCounter, repeat: int, warmup: int,
            headers: dict | None) -> dict:
    times, statements = [], []
    for run in range(warmup + repeat):
        counter.count = 0
        started = time.perf_counter()
        response = client.get(page["path"], headers=headers)
        body = response.get_data()
        spent = time.perf_counter() - started
        if response.status_code != 200:
            raise Failure(f"{page['path']} answered {response.status_code}")
        if run >= warmup:
            times.append(spent)
            statements.append(counter.count)
    result = {**page, "median_ms": round(statistics.median(times) * 1000, 1),
              "p95_ms": round(percentile(times, 0.95) * 1000, 1),
              "min_ms": round(min(times) * 1000, 1),
              "statements": int(statistics.median(statements)), "bytes": len(body)}
    if page["path"].startswith("/api/"):
        result["total"] = json.loads(body)["total"]
    return result


def run_deadlines(app) -> dict:
    """``flask check-deadlines`` in this process: its time, output and the memory it took."""
    with app.app_context():
        open_cases = db.session.scalar(select(func.count()).select_from(Case).where(
            Case.state.in_(OPEN_STATES)))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["check-deadlines"])
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if result.exit_code != 0:
        raise Failure(f"check-deadlines failed: {result.output}{result.exception!r}")
    return {"seconds": round(seconds, 2), "open_cases": open_cases,
            "output": result.output.strip(), "peak_rss_mb": round(after / 1024),
            "rss_growth_mb": round((after - before) / 1024)}


def main() -> int:
    args = parse_args()
    url = normalise_database_url(args.database_url)
    app = build_app(url)
    dialect = make_url(url).get_backend_name()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    usernames = {"coordinator": args.coordinator, "admin": args.admin}
    if set(roles) - set(usernames):
        raise Failure(f"--roles takes coordinator and/or admin, not {args.roles!r}")
    only = tuple(p.strip() for p in args.pages.split(",") if p.strip())

    started = time.perf_counter()
    with app.app_context():
        cases = db.session.scalar(select(func.count()).select_from(Case))
        terms = pick_terms()
        repeats = repeat_parties()
        category = db.session.scalar(
            select(Category.code).join(Case, Case.category_id == Category.id)
            .where(Case.id > db.session.scalar(select(func.max(Case.id))) - SAMPLE)
            .group_by(Category.code).order_by(desc(func.count())).limit(1))
        plan, tokens = {}, {}
        for role in roles:
            user = account(usernames[role])
            if user.two_factor_enabled:
                user_ops.reset_two_factor(None, user)
            token, secret = api_tokens.create_token(None, user, "bench/scale.py", days=1)
            tokens[role] = (token.id, secret)
            plan[role] = pages_for(user, terms, case_pages(user, repeats), category)
        db.session.commit()
    print(f"{dialect}, {cases:,} cases ({args.label or 'no label'}); terms {terms}; "
          f"set up in {time.perf_counter() - started:.1f} s; {args.warmup} warm-up + "
          f"{args.repeat} measured requests per page", flush=True)

    deadlines = None
    if not args.no_deadlines:
        deadlines = run_deadlines(app)
        said = (deadlines["output"].splitlines() or [""])[-1]
        print(f"check-deadlines: {deadlines['seconds']:.2f} s over {deadlines['open_cases']:,} "
              f"open cases, peak memory {deadlines['peak_rss_mb']} MB (+"
              f"{deadlines['rss_growth_mb']} MB): {said}", flush=True)

    with app.app_context():
        counter = StatementCounter(db.engine)
    password = app.config["DEMO_PASSWORD"]
    results = []
    print(f"\n{'page':44} {'role':12} {'median':>9} {'p95':>9} {'SQL':>4}", flush=True)
    try:
        for role in roles:
            client = app.test_client()
            login(client, usernames[role], password)
            bearer = {"Authorization": f"Bearer {tokens[role][1]}"}
            for page in plan[role]:
                if only and not page["key"].startswith(only):
                    continue
                headers = bearer if page["path"].startswith("/api/") else None
                row = {**measure(client, page, counter, args.repeat, args.warmup, headers),
                       "role": role}
                results.append(row)
                print(f"{fit(row['page'], 44)} {role:12} {row['median_ms']:7.1f}ms "
                      f"{row['p95_ms']:7.1f}ms {row['statements']:4}", flush=True)
    finally:
        with app.app_context():
            for token_id, _secret in tokens.values():
                token = db.session.get(api_tokens.ApiToken, token_id)
                api_tokens.revoke_token(None, token)
            db.session.commit()

    out = args.out or RESULTS / f"{dialect}-{cases}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "dialect": dialect, "cases": cases, "label": args.label,
        "database": make_url(url).render_as_string(hide_password=True),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "repeat": args.repeat, "warmup": args.warmup,
        "accounts": {role: usernames[role] for role in roles},
        "machine": {"python": platform.python_version(), "system": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "terms": terms, "check_deadlines": deadlines, "pages": results,
    }
    out.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    print(f"\nSaved {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
