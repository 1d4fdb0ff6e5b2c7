"""The load scenario: staff working their queues and residents checking their case.

Run it through ``bench/load/run.py`` (which starts gunicorn on 127.0.0.1 and reads the
results), or by hand against an app already listening on 127.0.0.1:

    .venv/bin/locust -f bench/load/locustfile.py --headless -H http://127.0.0.1:8000 \\
        -u 60 -r 10 -t 10m --staff 50 --codes instance/scale-access-codes.csv

* **Staff** (``--staff``, default 50, accounts ``scale-staff-1`` … of ``flask seed-scale``,
  password DEMO_PASSWORD): each logs in once through the login page, one every
  ``--login-interval`` seconds (3.2: 19 a minute, under the login limit of 20 a minute
  per address — they all come from 127.0.0.1), then works, 1–5 s between two steps:
  their queues (mostly “mine”), a case from the queue they last looked at, search (a
  name, a phone prefix, a title word seen on their pages, a case number), the workbench
  and now and then the dashboard.
* **Residents** (the other users of ``-u``): each step is a new resident who opens “check
  my case”, types a right case number and access code from ``--codes`` (the CSV of
  ``seed-scale``: case_number,code), reads the case and leaves, 3–10 s between steps.

Every answer must be a 200 (or the 303 of the right pair), otherwise it counts as a
failure.  The scenario refuses to start unless the host is 127.0.0.1 and both the
number of users (``-u``, at most 500) and the run time (``-t``) are given, so that it
stops by itself.
"""

import csv
import itertools
import json
import logging
import os
import random
import re
import time
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser
from urllib3.util import Retry

MAX_USERS = 500
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# A row of a queue: the case's number, then its title.
CASE_LINK = re.compile(r'href="/cases/(\d{4}-\d{6,})">[^<]*</a></td>\s*<td>([^<]*)<')
# Common given names and words of the demo's and seed-scale's cases; the page's own words
# and numbers join them as the staff see them.
NAMES = ["王芳", "张伟", "李娜", "秀英", "建华", "桂兰", "志强", "海燕", "丽", "刘"]
WORDS = ["漏水", "噪音", "装修", "停车", "物业", "工资", "宠物", "邻里", "赔偿"]
PHONES = ["13905", "13800", "15954", "18653", "13853"]

# A GET whose kept-alive connection the server closed just as it was sent (gunicorn closes
# idle ones after a few seconds) is sent once more, as browsers and the reverse proxy do;
# the retries are counted and reported. POSTs never are.
RETRY = Retry(total=1, connect=1, read=1, status=0, other=0,
              allowed_methods=frozenset({"GET"}), raise_on_status=False)

settings: dict = {}
_slots = itertools.count()


class RetryCounter(logging.Handler):
    """Counts urllib3's "Retrying … after connection broken" warnings."""

    count = 0

    def emit(self, record):
        if record.getMessage().startswith("Retrying"):
            RetryCounter.count += 1


logging.getLogger("urllib3.connectionpool").addHandler(RetryCounter())


@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--staff", type=int, default=50, help="staff users (fixed count)")
    parser.add_argument("--staff-prefix", default="scale-staff-",
                        help="their usernames: prefix + 1, 2, …")
    parser.add_argument("--password", default="Tiaojie-Demo-2026",
                        help="the staff's password (the app's DEMO_PASSWORD)")
    parser.add_argument("--codes", default="instance/scale-access-codes.csv",
                        help="case_number,code pairs for the residents")
    parser.add_argument("--login-interval", type=float, default=3.2,
                        help="seconds between two staff logins")


@events.init.add_listener
def _check(environment, **_kw):
    """Refuse anything but a bounded run against this machine."""
    options = environment.parsed_options
    if options is None:  # imported by a tool, not run
        return
    host = urlsplit(environment.host or "").hostname
    problems = []
    if host != "127.0.0.1":
        problems.append(f"the host must be http://127.0.0.1:PORT, not {environment.host!r}")
    if not options.run_time:
        problems.append("give the run time (-t / --run-time), e.g. -t 10m")
    if not options.num_users or options.num_users > MAX_USERS:
        problems.append(f"give the number of users (-u), at most {MAX_USERS}")
    if options.staff > (options.num_users or 0):
        problems.append(f"-u {options.num_users} leaves no room for --staff {options.staff}")
    try:
        with open(options.codes, newline="", encoding="utf-8") as handle:
            pairs = [(row["case_number"], row["code"]) for row in csv.DictReader(handle)]
    except (OSError, KeyError) as error:
        pairs = []
        problems.append(f"cannot read the access codes {options.codes}: {error}")
    if not pairs and (options.num_users or 0) > options.staff:
        problems.append(f"no case_number,code pairs in {options.codes}")
    if problems:
        raise SystemExit("bench/load/locustfile.py refuses to run: " + "; ".join(problems))
    settings.update(environment=environment, pairs=pairs, staff=options.staff,
                    prefix=options.staff_prefix, password=options.password,
                    interval=options.login_interval)
    Staff.fixed_count = options.staff


@events.test_start.add_listener
def _started(**_kw):
    settings["started"] = time.monotonic()


@events.quit.add_listener
def _summary(**_kw):
    """The final figures, for run.py (LOAD_SUMMARY_FILE): locust's CSV is written a little
    before the last requests of the stop end."""
    print(f"GETs sent again after a dropped kept-alive connection: {RetryCounter.count}")
    target = os.environ.get("LOAD_SUMMARY_FILE")
    runner = settings.get("environment") and settings["environment"].runner
    if not target or runner is None:
        return

    def figures(entry, kind, name):
        return {"type": kind, "name": name, "requests": entry.num_requests,
                "failures": entry.num_failures, "rps": round(entry.total_rps, 2),
                **{f"p{round(q * 100)}_ms": entry.get_response_time_percentile(q)
                   for q in (0.5, 0.95, 0.99)},
                "max_ms": round(entry.max_response_time or 0)}

    stats = runner.stats
    rows = [figures(e, e.method, e.name) for e in sorted(
        stats.entries.values(), key=lambda e: (e.name, e.method))]
    with open(target, "w", encoding="utf-8") as handle:
        json.dump({"total": figures(stats.total, "", "Aggregated"), "requests": rows,
                   "failures": [{"request": f"{f.method} {f.name}", "error": str(f.error),
                                 "count": f.occurrences} for f in stats.errors.values()],
                   "get_retries": RetryCounter.count}, handle, ensure_ascii=False, indent=1)


class Client(HttpUser):
    """Both kinds of user: a GET over a dropped kept-alive connection is sent again."""

    abstract = True

    def on_start(self):
        for adapter in self.client.adapters.values():
            adapter.max_retries = RETRY


def csrf_of(text: str) -> str | None:
    match = CSRF.search(text)
    return match.group(1) if match else None


class Staff(Client):
    """A mediator at work: queues, cases, search, the workbench."""

    wait_time = between(1, 5)
    fixed_count = 50  # set from --staff

    def on_start(self):
        super().on_start()
        slot = next(_slots)
        if slot >= settings["staff"]:
            raise StopUser()
        self.username = f"{settings['prefix']}{slot + 1}"
        # One login every interval, counted from the start: the login limit is per address.
        due = settings.get("started", time.monotonic()) + slot * settings["interval"]
        time.sleep(max(0.0, due - time.monotonic()))
        self.seen_cases: list[str] = []
        self.seen_words: list[str] = []
        self.login()

    def login(self):
        page = self.client.get("/login", name="/login (form)")
        token = csrf_of(page.text)
        if token is None:
            raise StopUser()
        with self.client.post("/login", name="/login", allow_redirects=False, catch_response=True,
                              data={"csrf_token": token, "username": self.username,
                                    "password": settings["password"]}) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or location.startswith("/login"):
                response.failure(f"login of {self.username} refused ({response.status_code} "
                                 f"{response.error or location})")
                raise StopUser()
            if "/account/password" in location:
                response.failure(f"{self.username} must change the password first")
                raise StopUser()
            response.success()

    def page(self, path: str, name: str):
        with self.client.get(path, name=name, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} "
                                 f"{response.error or response.headers.get('Location', '')}")
                return None
            response.success()
            return response.text

    def remember(self, html: str | None):
        if not html:
            return
        found = CASE_LINK.findall(html)
        if found:
            self.seen_cases = [number for number, _title in found]
            titles = [title.strip() for _number, title in found if len(title.strip()) >= 2]
            self.seen_words = [t[i:i + 2] for t in titles[:5] for i in (0, len(t) // 2)
                               if len(t[i:i + 2]) == 2]

    def queue(self, name: str):
        self.remember(self.page(f"/cases/?queue={name}", f"/cases/?queue={name}"))

    @task(6)
    def queue_mine(self):
        self.queue("mine")

    @task(2)
    def queue_team(self):
        self.queue("team")

    @task(1)
    def queue_awaiting(self):
        self.queue("awaiting")

    @task(1)
    def queue_overdue(self):
        self.queue("overdue")

    @task(1)
    def queue_proposals(self):
        self.queue("proposals")

    @task(2)
    def queue_all(self):
        self.queue("all")

    @task(6)
    def open_case(self):
        if not self.seen_cases:
            return self.queue("all")
        self.page(f"/cases/{random.choice(self.seen_cases)}", "/cases/[number]")

    @task(3)
    def search(self):
        kind = random.choice(["name", "phone", "word", "number"])
        if kind == "number" and self.seen_cases:
            term = random.choice(self.seen_cases)
        elif kind == "phone":
            term = random.choice(PHONES)
        elif kind == "word":
            term = random.choice(self.seen_words or WORDS)
        else:
            term = random.choice(NAMES)
        self.remember(self.page(f"/cases/?queue=all&q={term}", f"/cases/?q=[{kind}]"))

    @task(3)
    def workbench(self):
        self.page("/", "/ (workbench)")

    @task(1)
    def dashboard(self):
        self.page("/stats/", "/stats/")


class Resident(Client):
    """One resident after another checks a case with its number and access code."""

    wait_time = between(3, 10)

    @task
    def check_my_case(self):
        number, code = random.choice(settings["pairs"])
        self.client.cookies.clear()  # a new resident, a new browser
        form = self.client.get("/status", name="/status (form)")
        with self.client.post("/status", name="/status (right pair)", allow_redirects=False,
                              catch_response=True,
                              data={"csrf_token": csrf_of(form.text), "case_number": number,
                                    "access_code": code}) as response:
            if response.status_code != 303 or "/status/case" not in \
                    response.headers.get("Location", ""):
                response.failure(f"the right pair of {number} was not taken "
                                 f"({response.status_code} {response.error or ''})")
                return
            response.success()
        with self.client.get("/status/case", name="/status/case", allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200 or number not in response.text:
                response.failure(f"{response.status_code} {response.error or ''}: not the "
                                 f"page of {number}")
                return
            response.success()
            token = csrf_of(response.text)
        self.client.post("/status/leave", name="/status/leave", allow_redirects=False,
                         data={"csrf_token": token})
