"""Benchmark: the pages that must stay within 1.5x of their time at 10,000 cases, measured
against both sizes at once.

    .venv/bin/python bench/ratio.py SMALL_URL LARGE_URL [--repeat 60] [--roles ...]

SMALL_URL and LARGE_URL are databases filled by ``flask seed-scale`` (e.g. ``scale_10k`` and
``scale_1m`` on PostgreSQL).  ``bench/scale.py`` measures one database per run, one after
the other; on these shared 2-core machines the speed drifts by a third between runs
minutes apart, which is the size of the ratio being judged.  Here one process builds an app
on each database, logs in on both through the real pages (as ``bench/scale.py`` does) and
asks each page of the workbench and the queues of the two apps in turn, request by
request, so that both sizes meet the same machine.  It prints the median and the 95th
percentile of each, their ratio, and whether the target (under 150 ms at the large size and
at most 1.5x the small) is met; the results go to ``bench/results/ratio-<small>-<large>.json``
and ``bench/scale_table.py`` shows them beside its table.  Without URLs it prints this text
and exits 0 (``make bench``).
"""

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402  (this folder's bench/scale.py: logging in, the pages)

TARGET_MS, TARGET_RATIO = 150, 1.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("small", nargs="?")
    parser.add_argument("large", nargs="?")
    parser.add_argument("--repeat", type=int, default=60, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--roles", default="coordinator,admin")
    parser.add_argument("--admin", default="scale-admin")
    parser.add_argument("--coordinator", default="scale-coordinator")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not (args.small and args.large):
        print(__doc__)
        sys.exit(0)
    return args


def side(url: str, usernames: dict[str, str], roles: list[str]) -> dict:
    """An app on ``url`` with a logged-in client per role."""
    app = scale.build_app(scale.normalise_database_url(url))
    with app.app_context():
        cases = scale.db.session.scalar(scale.select(scale.func.count())
                                        .select_from(scale.Case))
        for role in roles:
            user = scale.account(usernames[role])
            if user.two_factor_enabled:
                scale.user_ops.reset_two_factor(None, user)
        scale.db.session.commit()
    clients = {}
    for role in roles:
        clients[role] = app.test_client()
        scale.login(clients[role], usernames[role], app.config["DEMO_PASSWORD"])
    return {"cases": cases, "clients": clients,
            "dialect": scale.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()}


def timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    response.get_data()
    spent = time.perf_counter() - started
    if response.status_code != 200:
        raise scale.Failure(f"{path} answered {response.status_code}")
    return spent


def main() -> int:
    args = parse_args()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    usernames = {"coordinator": args.coordinator, "admin": args.admin}
    small, large = side(args.small, usernames, roles), side(args.large, usernames, roles)
    pages = [("workbench", "workbench /", "/")] + [
        (f"queue-{q}", f"queue {q}", f"/cases/?queue={q}") for q in scale.QUEUES]
    print(f"{small['dialect']}: {small['cases']:,} and {large['cases']:,} cases, interleaved; "
          f"{args.warmup} warm-up + {args.repeat} measured requests per page and size\n")
    print(f"{'page':20} {'role':12} {'small':>15} {'large':>15} {'ratio':>6}  target")
    results, met = [], True
    for role in roles:
        for key, text, path in pages:
            times = {"small": [], "large": []}
            for run in range(args.warmup + args.repeat):
                for name, which in (("small", small), ("large", large)):
                    spent = timed(which["clients"][role], path)
                    if run >= args.warmup:
                        times[name].append(spent * 1000)
            row = {"key": key, "page": text, "role": role}
            for name, values in times.items():
                row[f"{name}_median_ms"] = round(statistics.median(values), 1)
                row[f"{name}_p95_ms"] = round(scale.percentile(values, 0.95), 1)
            row["ratio"] = round(row["large_median_ms"] / row["small_median_ms"], 2)
            row["met"] = row["large_median_ms"] < TARGET_MS and row["ratio"] <= TARGET_RATIO
            met &= row["met"]
            results.append(row)
            print(f"{text:20} {role:12} {row['small_median_ms']:6.1f} / {row['small_p95_ms']:5.1f}"
                  f" {row['large_median_ms']:6.1f} / {row['large_p95_ms']:5.1f} "
                  f"{row['ratio']:5.2f}x  {'met' if row['met'] else 'NOT met'}", flush=True)
    out = args.out or scale.RESULTS / f"ratio-{small['cases']}-{large['cases']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "dialect": small["dialect"], "small_cases": small["cases"],
        "large_cases": large["cases"], "repeat": args.repeat, "warmup": args.warmup,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pages": results}, ensure_ascii=False, indent=1) + "\n")
    print(f"\n{'All' if met else 'NOT all'} targets met. Saved {out.relative_to(scale.ROOT)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
