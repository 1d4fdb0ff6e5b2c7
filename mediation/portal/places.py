"""What the residents' pages show of the area tree and the centres: public facts only."""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.areas.models import AreaKind, AreaNode, Centre
from mediation.areas.operations import grid_for_address
from mediation.core.errors import OperationError
from mediation.extensions import db


def centres() -> list[Centre]:
    """The one-stop centres, with their addresses, phones and hours."""
    return list(db.session.scalars(select(Centre).order_by(Centre.name)))


def nodes(kind: AreaKind, parent: AreaNode | None = None) -> list[AreaNode]:
    stmt = select(AreaNode).where(AreaNode.kind == kind).order_by(AreaNode.code)
    if parent is not None:
        stmt = stmt.where(AreaNode.parent_id == parent.id)
    return list(db.session.scalars(stmt))


def node(kind: AreaKind, value: str | None) -> AreaNode | None:
    """The node of ``kind`` whose id was given (from a query string), or None."""
    if not (value or "").isdigit():
        return None
    found = db.session.get(AreaNode, int(value))
    return found if found is not None and found.kind is kind else None


def grid_for(code: str | None, address: str | None) -> AreaNode:
    """The grid a report names by its area code, or else the one its address is in, as the
    page picks it "from the address"; OperationError asking to choose otherwise."""
    if (code or "").strip():
        grid = db.session.scalar(select(AreaNode).where(AreaNode.code == code.strip(),
                                                        AreaNode.kind == AreaKind.GRID))
        if grid is None:
            raise OperationError(_("No grid has this area code: choose the grid, or give the "
                                   "address instead."), field="grid")
        return grid
    address = (address or "").strip()
    if not address:
        raise OperationError(_("Write the address where it happened (or choose the grid)."),
                             field="address")
    grid = grid_for_address(address, nodes(AreaKind.GRID))
    if grid is None:
        raise OperationError(_("We could not tell the grid from this address: add the estate "
                               "and building (e.g. 文苑小区7号楼), choose the grid, or call the "
                               "centre."), field="address")
    return grid


@dataclass
class Where:
    """Where a reported dispute happened, chosen step by step without script: street, then
    community (a step with only one choice is taken for the resident), then the grid on the
    report itself; or anywhere, the grid picked from the address typed."""

    street: AreaNode | None = None
    community: AreaNode | None = None
    by_address: bool = False

    @classmethod
    def from_args(cls, args) -> "Where":
        community = node(AreaKind.COMMUNITY, args.get("community"))
        if community is not None:
            return cls(street=community.parent, community=community)
        if args.get("by") == "address":
            return cls(by_address=True)
        street = node(AreaKind.STREET, args.get("street"))
        if street is None:
            streets = nodes(AreaKind.STREET)
            street = streets[0] if len(streets) == 1 else None
        if street is not None:
            communities = nodes(AreaKind.COMMUNITY, street)
            if len(communities) == 1:
                return cls(street=street, community=communities[0])
        return cls(street=street)

    @property
    def chosen(self) -> bool:
        return self.community is not None or self.by_address

    def choices(self) -> list[AreaNode]:
        """What the next step offers: the streets, or the chosen street's communities."""
        if self.street is None:
            return nodes(AreaKind.STREET)
        return nodes(AreaKind.COMMUNITY, self.street)

    def grids(self) -> list[AreaNode]:
        """The grids the dispute may be in: the community's, or every grid."""
        return nodes(AreaKind.GRID, self.community)

    def args(self) -> dict[str, str]:
        """The query string that comes back to this choice."""
        if self.community is not None:
            return {"community": str(self.community.id)}
        return {"by": "address"} if self.by_address else {}
