"""Loading an area tree from CSV: ``flask import-areas FILE.csv`` and the importer itself."""

import re

import pytest
from sqlalchemy import func, select

from mediation.areas import importer
from mediation.areas.models import AreaKind, AreaNode
from mediation.core.audit import AuditEntry
from mediation.extensions import db

HEADER = "code,name,type,parent_code,households"

# 1 district, 2 streets, 3 communities, 6 grids; types in English and Chinese.
GOOD_ROWS = [
    "110199,测试区,district,,",
    "110199001,东城街道,街道,110199,",
    "110199002,西城街道,street,110199,",
    "110199001001,东一社区,社区,110199001,1200",
    "110199001002,东二社区,community,110199001,",
    "110199002001,西一社区,社区/村,110199002,860",
    "110199001001-01,东一社区第1网格,网格,110199001001,150",
    "110199001001-02,东一社区第2网格,grid,110199001001,",
    "110199001002-01,东二社区第1网格,网格,110199001002,",
    "110199002001-01,西一社区第1网格,Grid,110199002001,210",
    "110199002001-02,西一社区第2网格,网格,110199002001,",
    "110199002001-03,西一社区第3网格,网格,110199002001,",
]
GOOD_COUNTS = {AreaKind.DISTRICT: 1, AreaKind.STREET: 2, AreaKind.COMMUNITY: 3, AreaKind.GRID: 6}


def _csv(rows, header=HEADER, newline="\n") -> str:
    return newline.join([header, *rows]) + newline


def _write(tmp_path, text: str, name: str = "areas.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _import(runner, path):
    return runner.invoke(args=["import-areas", str(path)])


def _node_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AreaNode))


def _node(code: str) -> AreaNode | None:
    return db.session.scalar(select(AreaNode).where(AreaNode.code == code))


def _counts_by_kind() -> dict:
    return dict(db.session.execute(
        select(AreaNode.kind, func.count()).group_by(AreaNode.kind)).all())


def _error_lines(output: str, filename: str) -> dict[int, str]:
    """``{line: message}`` from the ``file.csv:LINE: message`` lines the command prints."""
    found = {}
    for match in re.finditer(rf"^{re.escape(filename)}:(\d+): (.+)$", output, re.MULTILINE):
        line = int(match.group(1))
        assert line not in found, f"line {line} reported twice"
        found[line] = match.group(2)
    return found


def _assert_tree_consistent():
    for node in db.session.scalars(select(AreaNode)):
        if node.parent is None:
            assert node.kind == AreaKind.DISTRICT
            assert node.path == f"/{node.id}/"
        else:
            assert node.kind.parent_kind == node.parent.kind
            assert node.path == f"{node.parent.path}{node.id}/"
            assert node.path.startswith(node.parent.path)


# ---- a good file ------------------------------------------------------------------------

def test_good_file_loads_the_whole_tree(app, runner, tmp_path):
    result = _import(runner, _write(tmp_path, _csv(GOOD_ROWS)))

    assert result.exit_code == 0, result.output
    assert "12 created, 0 updated, 0 unchanged" in result.stdout
    assert _counts_by_kind() == GOOD_COUNTS
    district = _node("110199")
    street = _node("110199002")
    community = _node("110199002001")
    grid = _node("110199002001-03")
    assert district.parent is None and district.name == "测试区"
    assert street.parent is district and street.kind == AreaKind.STREET
    assert community.parent is street and community.kind == AreaKind.COMMUNITY
    assert community.households == 860
    assert grid.parent is community and grid.kind == AreaKind.GRID
    assert grid.households is None
    assert grid.path.startswith(community.path) and community.path.startswith(street.path) \
        and street.path.startswith(district.path)
    assert [g.code for g in community.children] == [
        "110199002001-01", "110199002001-02", "110199002001-03"]
    _assert_tree_consistent()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "area.import"))
    assert entry.after == {"created": 12, "updated": 0, "unchanged": 0, "changed_areas": []}


def test_rows_may_come_in_any_order(app):
    """Children listed before their parents still load under them."""
    result = importer.import_csv(_csv(list(reversed(GOOD_ROWS))).encode())
    db.session.commit()

    assert result.ok and result.created == 12
    assert _counts_by_kind() == GOOD_COUNTS
    _assert_tree_consistent()


# ---- broken files -----------------------------------------------------------------------

BROKEN_ROWS = [                                         # line
    "110199,测试区,district,,",                           # 2 ok
    "110199001,东城街道,街道,110199,",                     # 3 ok
    "110199002,奇怪街道,township-ish,110199,",             # 4 bad type
    "110199003,,街道,110199,",                             # 5 empty name
    "110199001,重复街道,街道,110199,",                      # 6 duplicate of line 3
    "110199001001,孤儿社区,社区,110188001,",                # 7 unknown parent
    "110199001-01,街道下的网格,网格,110199001,",             # 8 grid directly under a street
    "110198,另一区,区,110199,",                             # 9 district with a parent
    "110199001002,东二社区,社区,110199001,一千二",           # 10 households not a number
    "110199001003,东三社区,社区,110199001,300",             # 11 ok
]


def test_broken_file_reports_every_error_with_its_line_and_loads_nothing(app, runner, tmp_path):
    path = _write(tmp_path, _csv(BROKEN_ROWS), name="broken.csv")
    result = _import(runner, path)

    assert result.exit_code != 0
    errors = _error_lines(result.output, "broken.csv")
    assert sorted(errors) == [4, 5, 6, 7, 8, 9, 10]
    # The messages carry the offending values (whatever the interface language).
    assert "township-ish" in errors[4]
    assert "3" in errors[6]  # the line the code first appeared on
    assert "110188001" in errors[7]
    assert "110199001" in errors[8]
    assert "一千二" in errors[10]
    assert "created" not in result.output
    assert _node_count() == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "area.import")) == 0


def test_line_numbers_count_blank_lines_and_the_header(app, runner, tmp_path):
    text = _csv(["110199,测试区,district,,", "", "110199001,,街道,110199,", "",
                 "110199002,西城街道,street,110199,abc"])
    result = _import(runner, _write(tmp_path, text, name="gaps.csv"))

    assert result.exit_code != 0
    assert sorted(_error_lines(result.output, "gaps.csv")) == [4, 6]
    assert _node_count() == 0


def test_error_after_many_good_rows_still_loads_nothing(app, runner, tmp_path):
    rows = ["110199,测试区,district,,"]
    for s in range(1, 4):
        street = f"110199{s:03d}"
        rows.append(f"{street},街道{s},street,110199,")
        for c in range(1, 11):
            community = f"{street}{c:03d}"
            rows.append(f"{community},社区{s}-{c},community,{street},")
            rows += [f"{community}-{g:02d},网格{s}-{c}-{g},grid,{community},{100 + g}"
                     for g in range(1, 11)]
    good = len(rows)
    assert good == 1 + 3 + 30 + 300
    rows.append("110199001001-99,坏网格,grid,110199001001-01,")  # a grid under a grid
    result = _import(runner, _write(tmp_path, _csv(rows), name="big.csv"))

    assert result.exit_code != 0
    assert sorted(_error_lines(result.output, "big.csv")) == [good + 2]
    assert _node_count() == 0

    # The same file without the bad row loads completely.
    result = _import(runner, _write(tmp_path, _csv(rows[:-1]), name="big.csv"))
    assert result.exit_code == 0, result.output
    assert f"{good} created" in result.stdout
    assert _node_count() == good


def test_missing_column_is_an_error_on_line_1(app, runner, tmp_path):
    text = _csv(["110199,测试区,,"], header="code,name,parent_code,households")
    result = _import(runner, _write(tmp_path, text, name="nocol.csv"))

    assert result.exit_code != 0
    errors = _error_lines(result.output, "nocol.csv")
    assert list(errors) == [1]
    assert "type" in errors[1]
    assert _node_count() == 0


def test_households_is_optional_as_a_column(app):
    rows = [",".join(r.split(",")[:4]) for r in GOOD_ROWS]
    result = importer.import_csv(_csv(rows, header="code,name,type,parent_code").encode())
    assert result.ok and result.created == 12


# ---- encodings --------------------------------------------------------------------------

def test_gb18030_file_from_excel_loads(app, runner, tmp_path):
    raw = _csv(GOOD_ROWS, newline="\r\n").encode("gb18030")
    with pytest.raises(UnicodeDecodeError):  # otherwise the test would prove nothing
        raw.decode("utf-8")
    path = tmp_path / "excel.csv"
    path.write_bytes(raw)

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert _counts_by_kind() == GOOD_COUNTS
    assert _node("110199001001").name == "东一社区"
    assert _node("110199002001-03").name == "西一社区第3网格"


def test_utf8_file_with_bom_loads(app, runner, tmp_path):
    path = _write(tmp_path, _csv(GOOD_ROWS), encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert _counts_by_kind() == GOOD_COUNTS
    assert _node("110199").name == "测试区"


# ---- importing again --------------------------------------------------------------------

def test_importing_twice_is_idempotent(app, runner, tmp_path):
    path = _write(tmp_path, _csv(GOOD_ROWS))
    assert _import(runner, path).exit_code == 0
    paths = {n.code: n.path for n in db.session.scalars(select(AreaNode))}

    result = _import(runner, path)

    assert result.exit_code == 0, result.output
    assert "0 created, 0 updated, 12 unchanged" in result.stdout
    assert _node_count() == 12
    db.session.expire_all()
    assert {n.code: n.path for n in db.session.scalars(select(AreaNode))} == paths


def test_changed_name_is_updated(app, runner, tmp_path):
    assert _import(runner, _write(tmp_path, _csv(GOOD_ROWS))).exit_code == 0
    street_id = _node("110199001").id
    rows = [r.replace("东城街道", "东城新街道").replace("西一社区第2网格,网格,110199002001,",
                                                   "西一社区第2网格,网格,110199002001,95")
            for r in GOOD_ROWS]

    result = _import(runner, _write(tmp_path, _csv(rows), name="renamed.csv"))

    assert result.exit_code == 0, result.output
    assert "0 created, 2 updated, 10 unchanged" in result.stdout
    db.session.expire_all()
    street = _node("110199001")
    assert street.name == "东城新街道" and street.id == street_id
    assert _node("110199002001-02").households == 95
    assert _node_count() == 12
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "area.import")
                               .order_by(AuditEntry.id.desc())).first()
    changed = {c["code"]: c for c in entry.after["changed_areas"]}
    assert changed["110199001"]["name"] == ["东城街道", "东城新街道"]


def test_existing_code_with_another_parent_is_refused(app, runner, tmp_path):
    assert _import(runner, _write(tmp_path, _csv(GOOD_ROWS))).exit_code == 0
    # Line 3: the community 110199001002 moved from 东城街道 to 西城街道.
    text = _csv(["110199002,西城街道,street,110199,",
                 "110199001002,东二社区,community,110199002,",
                 "110199002009,西九社区,community,110199002,"])

    result = _import(runner, _write(tmp_path, text, name="move.csv"))

    assert result.exit_code != 0
    errors = _error_lines(result.output, "move.csv")
    assert list(errors) == [3]
    assert "110199001002" in errors[3]
    db.session.expire_all()
    assert _node("110199001002").parent.code == "110199001"
    assert _node("110199002009") is None  # the good row of the refused file is not loaded
    assert _node_count() == 12


def test_existing_code_with_another_type_is_refused(app):
    assert importer.import_csv(_csv(GOOD_ROWS).encode()).ok
    db.session.commit()
    result = importer.import_csv(_csv(["110199001001,东一社区,street,110199,"]).encode())
    assert [line for line, _message in result.errors] == [2]
    assert _node("110199001001").kind == AreaKind.COMMUNITY


def test_import_on_top_of_the_demo_city(demo_city, runner, tmp_path):
    before = _node_count()
    community = _node("370599001001")  # 文苑社区, 7 grids
    text = _csv([
        "370599001001,文苑社区,社区,370599001,",
        "370599001001-08,文苑社区第8网格,网格,370599001001,210",
        "370599001001-09,文苑社区第9网格,网格,370599001001,",
    ])

    result = _import(runner, _write(tmp_path, text, name="more-grids.csv"))

    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 1 unchanged" in result.stdout
    assert _node_count() == before + 2
    db.session.expire_all()
    grid = _node("370599001001-08")
    assert grid.parent_id == community.id and grid.kind == AreaKind.GRID
    assert grid.path.startswith(community.path) and grid.path == f"{community.path}{grid.id}/"
    assert grid.households == 210
    assert len(_node("370599001001").children) == 9


def test_import_check_runs_against_the_database(demo_city):
    """A parent that exists only in the database counts, with its real type."""
    rows, errors, _rejected = importer.parse(_csv([
        "370599001001-08,新网格,网格,370599001001,",   # 2: community in the DB: fine
        "370599001-01,错网格,网格,370599001,",          # 3: 文汇街道 is a street
        "370599009,新街道,街道,370599,",               # 4: fine
    ]))
    assert errors == []
    problems = importer.check(rows)
    assert [line for line, _message in problems] == [3]


# Households must be plain digits in range: "²" passes str.isdigit() but not int(), and a
# number beyond the INTEGER column would fail on PostgreSQL only.
def test_households_that_look_like_digits_is_a_line_error(app):
    result = importer.import_csv(_csv(["110199,测试区,district,,²"]).encode())
    assert [line for line, _message in result.errors] == [2]


def test_child_of_a_rejected_row_points_at_that_line(app):
    result = importer.import_csv(_csv(["110199,测试区,district,,",
                                       "110199001,东城街道,town-ish,110199,",
                                       "110199001001,东一社区,社区,110199001,"]).encode())
    assert [line for line, _message in result.errors] == [3, 4]
    assert "110199001" in result.errors[1][1] and "3" in result.errors[1][1]


def test_households_beyond_the_column_range_is_a_line_error(app):
    result = importer.import_csv(_csv(["110199,测试区,district,,99999999999"]).encode())
    assert [line for line, _message in result.errors] == [2]
