"""Loading an area tree from CSV: everything is checked first, then all of it or nothing loads."""

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.areas.models import AreaKind, AreaNode
from mediation.areas.operations import set_path
from mediation.core import audit
from mediation.core.validators import is_valid_code
from mediation.extensions import db

COLUMNS = ("code", "name", "type", "parent_code")
OPTIONAL_COLUMNS = ("households",)
KIND_NAMES = {
    "district": AreaKind.DISTRICT, "区": AreaKind.DISTRICT, "县": AreaKind.DISTRICT,
    "区县": AreaKind.DISTRICT, "区/县": AreaKind.DISTRICT,
    "street": AreaKind.STREET, "街道": AreaKind.STREET, "镇": AreaKind.STREET,
    "乡": AreaKind.STREET, "街道/镇": AreaKind.STREET, "乡镇": AreaKind.STREET,
    "community": AreaKind.COMMUNITY, "社区": AreaKind.COMMUNITY, "村": AreaKind.COMMUNITY,
    "社区/村": AreaKind.COMMUNITY,
    "grid": AreaKind.GRID, "网格": AreaKind.GRID,
}


@dataclass
class AreaRow:
    line: int
    code: str
    name: str
    kind: AreaKind
    parent_code: str | None
    households: int | None


@dataclass
class ImportResult:
    errors: list[tuple[int, str]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(raw: bytes) -> str:
    """CSV from Excel on Chinese Windows is GB18030, from elsewhere UTF-8 (maybe with BOM)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def parse(text: str) -> tuple[list[AreaRow], list[tuple[int, str]], dict[str, int]]:
    """Rows, per-line errors, and the codes of rejected rows with their lines.

    Line numbers count the header as line 1.
    """
    errors: list[tuple[int, str]] = []
    rejected: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return [], [(1, _("The file is empty."))], {}
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return [], [(1, _("Missing columns: %(cols)s. Expected: %(expected)s.",
                          cols=", ".join(missing), expected=",".join(COLUMNS)))], {}
    index = {name: header.index(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS) if name in header}
    rows: list[AreaRow] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) < len(header):
            values = values + [""] * (len(header) - len(values))
        cell = {name: values[i].strip() for name, i in index.items()}
        problems = []
        if not is_valid_code(cell["code"]):
            problems.append(_("code %(code)r must be 1–32 letters, digits, dashes or "
                              "underscores", code=cell["code"]))
        if not cell["name"]:
            problems.append(_("name is empty"))
        elif len(cell["name"]) > 100:
            problems.append(_("name is longer than 100 characters"))
        kind = KIND_NAMES.get(cell["type"].lower())
        if kind is None:
            problems.append(_("type %(type)r is not one of district, street, community, grid",
                              type=cell["type"]))
        households = None
        if cell.get("households"):
            if re.fullmatch(r"[0-9]{1,7}", cell["households"]):
                households = int(cell["households"])
            else:
                problems.append(_("households %(value)r is not a whole number from 0 to "
                                  "9999999", value=cell["households"]))
        if problems:
            errors.append((line, "; ".join(problems)))
            rejected.setdefault(cell["code"], line)
            continue
        rows.append(AreaRow(line, cell["code"], cell["name"], kind, cell["parent_code"] or None,
                            households))
    return rows, errors, rejected


def existing_nodes(codes) -> dict[str, AreaNode]:
    """The nodes with these codes, looked up in chunks (a city's file has thousands)."""
    codes = sorted(set(codes))
    found: dict[str, AreaNode] = {}
    for start in range(0, len(codes), 1000):
        chunk = codes[start:start + 1000]
        found.update((n.code, n) for n in db.session.scalars(
            select(AreaNode).where(AreaNode.code.in_(chunk))))
    return found


def check(rows: list[AreaRow], rejected: dict[str, int] | None = None) -> list[tuple[int, str]]:
    """Cross-row and database checks: duplicates, parents, levels, conflicts with what exists."""
    errors = []
    by_code: dict[str, AreaRow] = {}
    for row in rows:
        if row.code in by_code:
            errors.append((row.line, _("code %(code)s already appears on line %(other)d",
                                       code=row.code, other=by_code[row.code].line)))
        else:
            by_code[row.code] = row
    rejected = rejected or {}
    existing = existing_nodes(set(by_code) | {r.parent_code for r in rows if r.parent_code})
    for row in rows:
        if by_code.get(row.code) is not row:
            continue
        if row.kind == AreaKind.DISTRICT:
            if row.parent_code:
                errors.append((row.line, _("a district has no parent")))
                continue
            parent_kind = None
        else:
            if not row.parent_code:
                errors.append((row.line, _("parent_code is required for a %(kind)s",
                                           kind=row.kind.title)))
                continue
            parent = by_code.get(row.parent_code)
            parent_kind = parent.kind if parent else getattr(existing.get(row.parent_code),
                                                             "kind", None)
            if parent_kind is None and row.parent_code in rejected:
                errors.append((row.line, _("its parent %(code)s is on line %(other)d, which has "
                                           "errors", code=row.parent_code,
                                           other=rejected[row.parent_code])))
                continue
            if parent_kind is None:
                errors.append((row.line, _("parent %(code)s is neither in the file nor in the "
                                           "database", code=row.parent_code)))
                continue
            if parent_kind != row.kind.parent_kind:
                errors.append((row.line, _("a %(kind)s must sit under a %(expected)s, but "
                                           "%(code)s is a %(actual)s", kind=row.kind.title,
                                           expected=row.kind.parent_kind.title,
                                           code=row.parent_code, actual=parent_kind.title)))
                continue
        node = existing.get(row.code)
        if node is not None:
            current_parent = node.parent.code if node.parent else None
            if node.kind != row.kind or current_parent != row.parent_code:
                errors.append((row.line, _("%(code)s already exists as %(name)s under %(parent)s; "
                                           "the import does not move or retype areas",
                                           code=row.code, name=node.display_name,
                                           parent=current_parent or "—")))
    return sorted(errors)


def load(rows: list[AreaRow], by=None,
         progress: Callable[[int], None] | None = None) -> ImportResult:
    """Create or rename the nodes, parents first.  Only call with rows that passed ``check``."""
    result = ImportResult()
    renamed = []
    nodes = existing_nodes([r.code for r in rows] + [r.parent_code for r in rows if r.parent_code])
    for depth in range(len(AreaKind)):
        level = [r for r in rows if r.kind.depth == depth]
        fresh = []
        for row in level:
            node = nodes.get(row.code)
            if node is None:
                node = AreaNode(code=row.code, name=row.name, kind=row.kind,
                                parent=nodes.get(row.parent_code) if row.parent_code else None,
                                households=row.households)
                db.session.add(node)
                nodes[row.code] = node
                fresh.append(node)
                result.created += 1
            elif node.name != row.name or (row.households is not None
                                           and node.households != row.households):
                renamed.append({"code": node.code, "name": [node.name, row.name],
                                "households": [node.households, row.households
                                               if row.households is not None
                                               else node.households]})
                node.name = row.name
                if row.households is not None:
                    node.households = row.households
                result.updated += 1
            else:
                result.unchanged += 1
            if progress:
                progress(1)
        db.session.flush()
        for node in fresh:
            set_path(node)
        db.session.flush()
    audit.record("area.import", object_type="AreaNode", actor=by,
                 after={"created": result.created, "updated": result.updated,
                        "unchanged": result.unchanged, "changed_areas": renamed})
    return result


def import_csv(raw: bytes, by=None, progress: Callable[[int], None] | None = None,
               on_checked: Callable[[int], None] | None = None) -> ImportResult:
    """Parse, check and load; on any error nothing is loaded and every error is returned."""
    try:
        text = decode(raw)
    except UnicodeDecodeError:
        return ImportResult(errors=[(1, _("The file is neither UTF-8 nor GB18030 text."))])
    rows, errors, rejected = parse(text)
    errors += check(rows, rejected)
    if errors:
        return ImportResult(errors=sorted(errors))
    if on_checked:
        on_checked(len(rows))
    return load(rows, by=by, progress=progress)
