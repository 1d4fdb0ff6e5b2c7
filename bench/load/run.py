"""Run the load scenario (locustfile.py) against gunicorn on 127.0.0.1 and report it.

    .venv/bin/pip install -e '.[bench]'        # locust, only for this
    .venv/bin/python bench/load/run.py DATABASE_URL [--run-time 10m] [--users 60]
        [--staff 50] [--codes instance/scale-access-codes.csv] [--port 8000] [--name NAME]

DATABASE_URL is a database filled by ``flask seed-scale`` (its staff accounts
``scale-staff-N`` and its residents' access codes, ``instance/scale-access-codes.csv``).
Without it the script prints this text and exits 0.

The script starts ``gunicorn -c gunicorn.conf.py wsgi:app`` bound to 127.0.0.1:PORT only
(refusing a port something already answers on), under the production configuration with
the keys of this checkout's instance folder — the ones ``seed-scale`` wrote the database
with under the development configuration (``SECRET_KEY``, the field key derived from it
as development derives it, ``AUDIT_KEY``) unless the environment sets them — and cookies
allowed over plain HTTP.  Limits stay as configured: the staff log in one every 3.2 s, under
the 20 a minute per address.  Anything else the app reads from the environment
(``RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/6``, ``WEB_CONCURRENCY``,
``GUNICORN_THREADS``) passes through.

Then locust runs headless with ``-u``/``-t`` (it stops by itself), gunicorn is stopped, and
the script prints the throughput (requests/s), p50/p95/p99 and the failures, overall and
per page, with what gunicorn saw (answers by status, worker timeouts, tracebacks);
locust's CSV files are kept as ``bench/results/load/NAME_*.csv`` and the summary as
``bench/results/load/NAME.json``.  It exits 1 if any request failed or the server erred.
"""

import argparse
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "load"
HOST = "127.0.0.1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", nargs="?")
    parser.add_argument("--run-time", default="10m", help="locust's -t (e.g. 60s, 10m)")
    parser.add_argument("--users", type=int, default=60, help="staff + residents (-u)")
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--staff-prefix", default="scale-staff-")
    parser.add_argument("--codes", type=Path, default=ROOT / "instance" / "scale-access-codes.csv")
    parser.add_argument("--login-interval", type=float, default=3.2)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--name", help="results' file name (default load-<database>)")
    args = parser.parse_args()
    if not args.database_url:
        print(__doc__)
        parser.print_usage()
        sys.exit(0)
    return args


def instance_key(name: str) -> str | None:
    path = ROOT / "instance" / name
    return path.read_text().strip() if path.exists() else None


def app_environment(database_url: str, port: int) -> dict:
    """The environment of the production configuration with this checkout's dev keys."""
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, MEDIATION_CONFIG="production",
               GUNICORN_BIND=f"{HOST}:{port}", SESSION_COOKIE_SECURE="false")
    env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{port}")
    secret = env.get("SECRET_KEY") or instance_key("dev-secret-key")
    if not secret:
        raise SystemExit("No SECRET_KEY and no instance/dev-secret-key: seed the database "
                         "from this checkout first (MEDIATION_CONFIG=development).")
    env["SECRET_KEY"] = secret
    if not env.get("FIELD_ENCRYPTION_KEY"):
        sys.path.insert(0, str(ROOT))
        from mediation.core.crypto import _hkdf  # how development derives the field key

        derived = _hkdf(secret.encode(), b"mediation field encryption")
        env["FIELD_ENCRYPTION_KEY"] = base64.urlsafe_b64encode(derived).decode()
    env.setdefault("AUDIT_KEY", instance_key("dev-audit-key") or "")
    return env


def answering(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((HOST, port)) == 0


def start_gunicorn(env: dict, port: int, log: Path) -> subprocess.Popen:
    if (ROOT / "gunicorn.conf.py").exists():
        command = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
    else:
        command = [str(BIN / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", "5",
                   "--threads", "2", "--preload", "wsgi:app"]
    env = {**env, "GUNICORN_ACCESS_LOG": str(log.with_suffix(".access.log"))}
    handle = log.open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle,
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {server.returncode}):\n"
                             + log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/login", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    stop(server)
    raise SystemExit(f"gunicorn did not answer on {HOST}:{port} within 120 s; see {log}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def count_cases(database_url: str) -> tuple[int | None, int | None]:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, text

    from mediation import normalise_database_url

    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as connection:
            cases = connection.scalar(text("SELECT count(*) FROM cases"))
            open_cases = connection.scalar(text(
                "SELECT count(*) FROM cases WHERE state IN ('reported', 'accepted', "
                "'in_mediation')"))
        return cases, open_cases
    finally:
        engine.dispose()


def server_side(log: Path) -> dict:
    """What gunicorn saw: answers by status class, and workers killed or failing."""
    statuses: dict[str, int] = {}
    access = log.with_suffix(".access.log")
    if access.exists():
        for line in access.read_text(errors="replace").splitlines():
            found = re.search(r'" (\d)\d\d ', line)
            if found:
                statuses[f"{found.group(1)}xx"] = statuses.get(f"{found.group(1)}xx", 0) + 1
    text = log.read_text(errors="replace") if log.exists() else ""
    return {"answers": statuses, "worker_timeouts": text.count("WORKER TIMEOUT"),
            "tracebacks": text.count("Traceback")}


def main() -> int:
    args = parse_args()
    if not 1024 <= args.port <= 65535:
        raise SystemExit("--port: 1024–65535")
    if answering(args.port):
        raise SystemExit(f"Something already answers on {HOST}:{args.port}: choose --port.")
    if not args.codes.exists():
        raise SystemExit(f"No access codes at {args.codes} (flask seed-scale writes them).")
    name = args.name or "load-" + args.database_url.rstrip("/").rsplit("/", 1)[-1] \
        .removesuffix(".sqlite3")
    RESULTS.mkdir(parents=True, exist_ok=True)
    prefix = RESULTS / name
    env = app_environment(args.database_url, args.port)
    cases, open_cases = count_cases(args.database_url)
    print(f"{cases:,} cases ({open_cases:,} open); gunicorn on {HOST}:{args.port}; "
          f"{args.staff} staff + {args.users - args.staff} residents for {args.run_time}",
          flush=True)

    log = prefix.with_suffix(".gunicorn.log")
    final = prefix.with_suffix(".final.json")
    final.unlink(missing_ok=True)
    server = start_gunicorn(env, args.port, log)
    started = time.time()
    try:
        locust = subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"),
             "--headless", "--only-summary", "-H", f"http://{HOST}:{args.port}",
             "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.run_time,
             "--stop-timeout", "10", "--csv", str(prefix),
             "--staff", str(args.staff), "--staff-prefix", args.staff_prefix,
             "--codes", str(args.codes), "--login-interval", str(args.login_interval)],
            cwd=ROOT, env={**os.environ, "LOAD_SUMMARY_FILE": str(final)})
    finally:
        stop(server)
    seconds = time.time() - started

    if not final.exists():
        print(f"locust wrote no statistics (exit {locust.returncode})")
        return 1
    figures = json.loads(final.read_text())
    final.unlink()
    rows, total = figures["requests"], figures["total"]
    print(f"\n{'request':34} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} "
          f"{'p99':>6} {'max':>6} (ms)")
    for row in [*rows, total]:
        print(f"{(row['type'] + ' ' + row['name'])[:34]:34} {row['requests']:7} "
              f"{row['failures']:5} {row['rps']:7.2f} {row['p50_ms']:6.0f} {row['p95_ms']:6.0f} "
              f"{row['p99_ms']:6.0f} {row['max_ms']:6}")
    server_saw = server_side(log)
    retried = figures["get_retries"]
    errors = total["failures"] + server_saw["answers"].get("5xx", 0) + \
        server_saw["worker_timeouts"] + server_saw["tracebacks"]
    print(f"\nThroughput {total['rps']:.1f} requests/s; p50 {total['p50_ms']:.0f} ms, p95 "
          f"{total['p95_ms']:.0f} ms, p99 {total['p99_ms']:.0f} ms; {total['failures']} "
          f"errors of {total['requests']:,} requests.")
    print(f"gunicorn answered {server_saw['answers']}; {server_saw['worker_timeouts']} worker "
          f"timeouts, {server_saw['tracebacks']} tracebacks in its log; GETs sent again after "
          f"a dropped kept-alive connection: {retried}.")
    record = {
        "database": args.database_url.split("@")[-1], "cases": cases, "open_cases": open_cases,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_time": args.run_time, "seconds": round(seconds), "users": args.users,
        "staff": args.staff, "residents": args.users - args.staff,
        "gunicorn": {"workers": env.get("WEB_CONCURRENCY", "gunicorn.conf.py's default"),
                     "threads": env.get("GUNICORN_THREADS", "gunicorn.conf.py's default")},
        "cpus": os.cpu_count(), "total": total, "server": server_saw,
        "get_retries": retried, "requests": rows, "failures": figures["failures"],
    }
    Path(f"{prefix}.json").write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    print(f"Saved {prefix.relative_to(ROOT)}.json and {prefix.relative_to(ROOT)}_*.csv")
    return 1 if errors or locust.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
