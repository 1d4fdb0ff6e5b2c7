"""The README's table of bench/scale.py's results: every page × role at 10,000, 100,000 and
1,000,000 cases on PostgreSQL (median / 95th percentile, ms), the ratio 1M/10k of the
medians, then SQLite at 10,000 and 100,000, and whether the issue's targets are met at
1,000,000 on PostgreSQL (judged on the median):

* the workbench and every queue under 150 ms and within 1.5× of their time at 10,000;
* search under 300 ms; the dashboard under 300 ms; a case page under 150 ms;
* ``check-deadlines`` over 100,000 open cases (or more) in under 60 s.

The 1.5× is judged on ``bench/ratio.py``'s interleaved measurement of 10,000 against
1,000,000 cases (``ratio-*.json``) when there is one: runs of ``bench/scale.py`` minutes apart
meet a machine whose speed drifts by as much as the ratio judged.  Its table follows.

    .venv/bin/python bench/scale_table.py [--results bench/results] [--check]

It reads every ``*.json`` there; a file counts for the size it is within 10 % of (the
newest one when several do).  It prints Markdown and exits 0, or with ``--check`` 1 when a
target is not met or not measured.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 100_000, 1_000_000)
COLUMNS = [("postgresql", 10_000), ("postgresql", 100_000), ("postgresql", 1_000_000),
           ("sqlite", 10_000), ("sqlite", 100_000)]
SHORT = {10_000: "10k", 100_000: "100k", 1_000_000: "1M"}
ROLES = ("coordinator", "admin")
ROLE_NAMES = {"coordinator": "street coordinator", "admin": "city administrator"}
LABELS = {
    "workbench": "workbench `/`",
    "queue-mine": "queue “mine”", "queue-team": "queue “team”",
    "queue-awaiting": "queue “awaiting”", "queue-proposals": "queue “proposals”",
    "queue-overdue": "queue “overdue”", "queue-all": "queue “all”",
    "search-name": "search, given name", "search-phone": "search, phone prefix",
    "search-address": "search, address", "search-title": "search, title word",
    "search-number": "search, case number",
    "case-typical": "case page, typical", "case-repeat": "case page, party in most cases",
    "api-list": "API list", "api-state": "API `state=closed`",
    "api-level": "API `level=community`", "api-category": "API `category=…`",
    "stats": "dashboard `/stats/`",
}
DEADLINE_TARGET_S, DEADLINE_OPEN = 60, 100_000


def target(key: str) -> tuple[float, float | None] | None:
    """(the most ms at 1M, the most ratio against 10k) or None: no target."""
    if key == "workbench" or key.startswith("queue-"):
        return 150, 1.5
    if key.startswith("search-") or key == "stats":
        return 300, None
    if key.startswith("case-"):
        return 150, None
    return None


def size_of(cases: int) -> int | None:
    return next((size for size in SIZES if abs(cases - size) <= size * 0.1), None)


def load(folder: Path) -> dict:
    """{(dialect, size): record}, the newest record of each."""
    found = {}
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("ratio-"):
            continue  # bench/ratio.py's: interleaved_ratios
        try:
            record = json.loads(path.read_text())
            size = size_of(int(record["cases"]))
            column = (record["dialect"], size)
        except (ValueError, KeyError, TypeError):
            print(f"(skipped {path.name}: not a bench/scale.py result)", file=sys.stderr)
            continue
        if size is None:
            continue
        if column not in found or record["measured_at"] > found[column]["measured_at"]:
            found[column] = record
    return found


def label_of(key: str, records: list[dict]) -> str:
    label = LABELS.get(key, key)
    terms = next((r["terms"] for r in records if r.get("terms")), {})
    term = terms.get(key.removeprefix("search-")) if key.startswith("search-") else None
    return f"{label} {term}" if term else label


def ms(row: dict | None) -> str:
    if row is None:
        return "—"
    return f"{row['median_ms']:,.0f} / {row['p95_ms']:,.0f}"


def interleaved_ratios(folder: Path) -> dict | None:
    """bench/ratio.py's newest record of 10,000 against 1,000,000 cases on PostgreSQL."""
    records = []
    for path in folder.glob("ratio-*.json"):
        record = json.loads(path.read_text())
        if record["dialect"] == "postgresql" and size_of(record["small_cases"]) == SIZES[0] \
                and size_of(record["large_cases"]) == SIZES[-1]:
            records.append(record)
    return max(records, key=lambda r: r["measured_at"]) if records else None


def verdict(key: str, big: dict | None, small: dict | None,
            interleaved: dict | None = None) -> tuple[str, bool | None]:
    rule = target(key)
    if rule is None:
        return "", None
    most, ratio = rule
    wanted = f"< {most:.0f} ms" + (f", ≤ {ratio}×" if ratio else "")
    if big is None or (ratio and small is None and interleaved is None):
        return f"{wanted}: not measured", False
    if ratio and interleaved is not None:
        met = big["median_ms"] < most and interleaved["ratio"] <= ratio
        return f"{wanted}: {'met' if met else '**not met**'} " \
               f"({interleaved['ratio']:.2f}× interleaved)", met
    met = big["median_ms"] < most and (not ratio or big["median_ms"] / small["median_ms"]
                                       <= ratio)
    return f"{wanted}: {'met' if met else '**not met**'}", met


def table(found: dict, interleaved: dict | None = None) -> tuple[list[str], bool]:
    records = [found[c] for c in sorted(found, key=lambda c: -c[1])]
    rows = {(c, p["key"], p["role"]): p for c, r in found.items() for p in r["pages"]}
    keys = [key for key in LABELS if any(k == key for _c, k, _r in rows)]
    keys += sorted({k for _c, k, _r in rows} - set(keys))
    head = ["page", "role"] + [f"PG {SHORT[s]}" for d, s in COLUMNS[:3]] + ["1M/10k"] + \
        [f"SQLite {SHORT[s]}" for d, s in COLUMNS[3:]] + ["SQL at 1M", "target at 1M (PG)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    all_met = True
    for key in keys:
        for role in ROLES:
            cells = {c: rows.get((c, key, role)) for c in COLUMNS}
            if not any(cells.values()):
                continue
            small, big = cells[COLUMNS[0]], cells[COLUMNS[2]]
            ratio = f"{big['median_ms'] / small['median_ms']:.1f}×" if small and big else "—"
            said, met = verdict(key, big, small, interleaved.get((key, role))
                                if interleaved else None)
            all_met = all_met and met is not False
            line = [label_of(key, records), ROLE_NAMES.get(role, role)] + \
                [ms(cells[c]) for c in COLUMNS[:3]] + [ratio] + \
                [ms(cells[c]) for c in COLUMNS[3:]] + \
                [str(big["statements"]) if big else "—", said]
            lines.append("| " + " | ".join(line) + " |")
    line, met = deadlines_row(found)
    all_met = all_met and met
    lines.append(line)
    return lines, all_met


def deadlines_row(found: dict) -> tuple[str, bool]:
    def cell(column):
        run = (found.get(column) or {}).get("check_deadlines")
        return f"{run['seconds']:,.1f} s ({run['open_cases']:,} open)" if run else "—"

    big = (found.get(COLUMNS[2]) or {}).get("check_deadlines")
    small = (found.get(COLUMNS[0]) or {}).get("check_deadlines")
    ratio = f"{big['seconds'] / small['seconds']:.1f}×" if big and small else "—"
    wanted = f"< {DEADLINE_TARGET_S} s over ≥ {DEADLINE_OPEN:,} open"
    if big is None or big["open_cases"] < DEADLINE_OPEN:
        said, met = f"{wanted}: not measured", False
    else:
        met = big["seconds"] < DEADLINE_TARGET_S
        said = f"{wanted}: {'met' if met else '**not met**'}"
    cells = ["`flask check-deadlines`", "—"] + [cell(c) for c in COLUMNS[:3]] + [ratio] + \
        [cell(c) for c in COLUMNS[3:]] + ["", said]
    return "| " + " | ".join(cells) + " |", met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a target is not met (or not measured)")
    args = parser.parse_args()
    found = load(args.results)
    if not found:
        print(f"No results of 10,000, 100,000 or 1,000,000 cases in {args.results}: run "
              "bench/scale.py DATABASE_URL first.")
        return 1 if args.check else 0
    ratios = interleaved_ratios(args.results)
    lines, all_met = table(found, ratios and {(p["key"], p["role"]): p for p in ratios["pages"]})
    print("Server time in ms, median / 95th percentile (bench/scale.py); SQL: statements per "
          "request at 1M.\n")
    print("\n".join(lines))
    print()
    for column in sorted(found):
        record = found[column]
        print(f"- {column[0]} {record['cases']:,} cases: measured {record['measured_at']}, "
              f"{record['repeat']} requests per page"
              + (f", {record['label']}" if record.get("label") else ""))
    if ratios:
        print(f"\nInterleaved (bench/ratio.py, {ratios['measured_at']}, {ratios['repeat']} "
              "requests per page and size): median / 95th percentile at 10,000 and at "
              "1,000,000 cases on PostgreSQL, and their ratio.\n")
        print("| page | role | PG 10k | PG 1M | 1M/10k |\n|---|---|---|---|---|")
        for p in ratios["pages"]:
            print(f"| {LABELS.get(p['key'], p['key'])} | {ROLE_NAMES.get(p['role'], p['role'])}"
                  f" | {p['small_median_ms']:.0f} / {p['small_p95_ms']:.0f}"
                  f" | {p['large_median_ms']:.0f} / {p['large_p95_ms']:.0f}"
                  f" | {p['ratio']:.2f}× |")
    print(f"\nTargets: {'all met' if all_met else 'NOT all met'}.")
    return 1 if args.check and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
