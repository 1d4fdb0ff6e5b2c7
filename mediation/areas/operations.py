"""The verbs on the area tree, committees, centres and rooms.  Callers commit."""

import string

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mediation.areas.models import AreaKind, AreaNode, Centre, Committee, Court, Room
from mediation.core import audit
from mediation.core.errors import OperationError
from mediation.core.validators import is_valid_code
from mediation.extensions import db

AREA_FIELDS = ["code", "name", "kind", "parent_id", "households", "address_hints"]
COMMITTEE_FIELDS = ["name", "short_name", "agreement_number_pattern", "area_id",
                    "registration_number", "registered_on",
                    "registration_authority", "seal_holder", "address", "phone", "active"]
CENTRE_FIELDS = ["name", "area_id", "address", "phone", "notes"]
COURT_FIELDS = ["name", "area_id", "address", "phone", "active"]
# Agreement numbers: {year} and {n} keep them unique per committee and year.
NUMBER_PATTERN_FIELDS = {"year", "short_name", "n"}
ROOM_FIELDS = ["centre_id", "name", "capacity", "video_capable", "active"]

COMMITTEE_AREA_KINDS = {AreaKind.COMMUNITY, AreaKind.STREET}
CENTRE_AREA_KINDS = {AreaKind.STREET, AreaKind.DISTRICT}


def set_path(node: AreaNode) -> None:
    """Materialise ``/root-id/…/own-id/`` (needs the id, so flush first)."""
    if node.id is None:
        db.session.flush()
    prefix = node.parent.path if node.parent is not None else "/"
    node.path = f"{prefix}{node.id}/"


def _check_code(code: str, node: AreaNode | None = None) -> str:
    code = code.strip()
    if not is_valid_code(code):
        raise OperationError(_("An area code has 1–32 letters, digits, dashes or underscores."),
                             field="code")
    clash = db.session.scalar(select(AreaNode).where(AreaNode.code == code))
    if clash is not None and clash is not node:
        raise OperationError(_("The code %(code)s is already used by %(name)s.", code=code,
                               name=clash.name), field="code")
    return code


def create_area(by, *, parent: AreaNode | None, code: str, name: str,
                households: int | None = None, address_hints: str | None = None) -> AreaNode:
    """Add a node one level below ``parent`` (a district when there is no parent)."""
    if parent is None:
        kind = AreaKind.DISTRICT
    else:
        kind = parent.kind.child_kind
        if kind is None:
            raise OperationError(_("A grid cannot have areas below it."))
    node = AreaNode(code=_check_code(code), name=name.strip(), kind=kind, parent=parent,
                    households=households, address_hints=_clean_hints(address_hints))
    db.session.add(node)
    set_path(node)
    audit.record("area.create", node, actor=by, after=audit.snapshot(node, AREA_FIELDS))
    return node


def update_area(by, node: AreaNode, *, code: str, name: str,
                households: int | None = None, address_hints: str | None = None) -> None:
    before = audit.snapshot(node, AREA_FIELDS)
    node.code = _check_code(code, node)
    node.name = name.strip()
    node.households = households
    node.address_hints = _clean_hints(address_hints)
    after = audit.snapshot(node, AREA_FIELDS)
    if after != before:
        audit.record("area.update", node, actor=by, before=before, after=after)


def _clean_hints(text: str | None) -> str | None:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return "\n".join(dict.fromkeys(lines)) or None


def grid_for_address(address: str, grids: list[AreaNode]) -> AreaNode | None:
    """The grid whose longest address fragment occurs in ``address``; None if none or a tie."""
    best: list[tuple[int, AreaNode]] = []
    for grid in grids:
        lengths = [len(hint) for hint in grid.hints if hint in address]
        if lengths:
            best.append((max(lengths), grid))
    if not best:
        return None
    best.sort(key=lambda pair: -pair[0])
    if len(best) > 1 and best[0][0] == best[1][0]:
        return None
    return best[0][1]


def delete_area(by, node: AreaNode) -> None:
    """Remove a node nothing depends on; the foreign keys refuse it while anything does."""
    blockers = []
    if node.children:
        blockers.append(_("areas below it"))
    if node.committees:
        blockers.append(_("committees"))
    if node.centres:
        blockers.append(_("centres"))
    if blockers:
        raise OperationError(_("%(name)s cannot be deleted: it has %(what)s.",
                               name=node.name, what="、".join(blockers)))
    before = audit.snapshot(node, AREA_FIELDS)
    node_id = node.id
    try:
        with db.session.begin_nested():
            db.session.delete(node)
    except IntegrityError:
        raise OperationError(_("%(name)s cannot be deleted: accounts or cases still refer to "
                               "it.", name=before["name"])) from None
    audit.record("area.delete", object_type="AreaNode", object_id=node_id, actor=by,
                 before=before)


def _check_kind(area: AreaNode, allowed: set[AreaKind], what: str) -> None:
    if area.kind not in allowed:
        raise OperationError(
            _("%(what)s belongs on a %(kinds)s, not on %(area)s.", what=what,
              kinds=_(" or ").join(str(k.title) for k in sorted(allowed, key=lambda k: k.depth)),
              area=area.display_name),
            field="area_code")


def check_number_pattern(pattern: str) -> str:
    """An agreement-number pattern must hold {year} and {n} and may hold {short_name}."""
    try:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(pattern)
                 if name is not None}
    except ValueError:
        names = None
    if names is None or not names <= NUMBER_PATTERN_FIELDS or not {"year", "n"} <= names:
        raise OperationError(_("The pattern needs {year} and {n} and may use {short_name}, "
                               "e.g. （{year}）{short_name}人调字第{n}号."),
                             field="agreement_number_pattern")
    return pattern


def save_committee(by, committee: Committee | None, *, area: AreaNode, **fields) -> Committee:
    """Create (``committee`` None) or update a mediation committee."""
    _check_kind(area, COMMITTEE_AREA_KINDS, _("A mediation committee"))
    pattern = (fields.get("agreement_number_pattern") or "").strip()
    fields["agreement_number_pattern"] = check_number_pattern(pattern) if pattern else None
    short_name = fields["short_name"].strip()
    clash = db.session.scalar(select(Committee).where(Committee.short_name == short_name))
    if clash is not None and clash is not committee:
        raise OperationError(_("The short name %(short)s is already used by %(name)s; it goes "
                               "into agreement numbers and must be unique.",
                               short=short_name, name=clash.name), field="short_name")
    fields["short_name"] = short_name
    same_name = db.session.scalar(select(Committee).where(
        Committee.area_id == area.id, Committee.name == fields["name"].strip()))
    if same_name is not None and same_name is not committee:
        raise OperationError(_("%(area)s already has a committee with this name.",
                               area=area.name), field="name")
    created = committee is None
    if created:
        committee = Committee(area=area, **fields)
        db.session.add(committee)
        before = None
    else:
        before = audit.snapshot(committee, COMMITTEE_FIELDS)
        committee.area = area
        for key, value in fields.items():
            setattr(committee, key, value)
    db.session.flush()
    after = audit.snapshot(committee, COMMITTEE_FIELDS)
    if after != before:
        audit.record("committee.create" if created else "committee.update", committee,
                     actor=by, before=before, after=after)
    return committee


def save_centre(by, centre: Centre | None, *, area: AreaNode, **fields) -> Centre:
    _check_kind(area, CENTRE_AREA_KINDS, _("A one-stop centre"))
    created = centre is None
    clash = db.session.scalar(select(Centre).where(Centre.name == fields["name"].strip()))
    if clash is not None and clash is not centre:
        raise OperationError(_("A centre with this name already exists."), field="name")
    if created:
        centre = Centre(area=area, **fields)
        db.session.add(centre)
        before = None
    else:
        before = audit.snapshot(centre, CENTRE_FIELDS)
        centre.area = area
        for key, value in fields.items():
            setattr(centre, key, value)
    db.session.flush()
    after = audit.snapshot(centre, CENTRE_FIELDS)
    if after != before:
        audit.record("centre.create" if created else "centre.update", centre, actor=by,
                     before=before, after=after)
    return centre


def save_room(by, room: Room | None, *, centre: Centre, name: str, capacity: int,
              video_capable: bool, active: bool = True) -> Room:
    if capacity is None or capacity < 1:
        raise OperationError(_("A room holds at least one person."), field="capacity")
    name = name.strip()
    clash = db.session.scalar(select(Room).where(Room.centre_id == centre.id, Room.name == name))
    if clash is not None and clash is not room:
        raise OperationError(_("This centre already has a room with this name."), field="name")
    created = room is None
    before = None if created else audit.snapshot(room, ROOM_FIELDS)
    if created:
        room = Room(centre=centre)
        db.session.add(room)
    room.name, room.capacity, room.video_capable, room.active = name, capacity, video_capable, \
        active
    db.session.flush()
    after = audit.snapshot(room, ROOM_FIELDS)
    if after != before:
        audit.record("room.create" if created else "room.update", room, actor=by,
                     before=before, after=after)
    return room


def save_court(by, court: Court | None, *, area: AreaNode, **fields) -> Court:
    """Create or update a court; it confirms agreements for the area it serves."""
    fields["name"] = fields["name"].strip()
    clash = db.session.scalar(select(Court).where(Court.name == fields["name"]))
    if clash is not None and clash is not court:
        raise OperationError(_("A court with this name already exists."), field="name")
    created = court is None
    before = None if created else audit.snapshot(court, COURT_FIELDS)
    if created:
        court = Court(area=area)
        db.session.add(court)
    court.area = area
    for key, value in fields.items():
        setattr(court, key, value)
    db.session.flush()
    after = audit.snapshot(court, COURT_FIELDS)
    if after != before:
        audit.record("court.create" if created else "court.update", court, actor=by,
                     before=before, after=after)
    return court
