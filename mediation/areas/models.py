"""The area tree (区/街道/社区/网格), mediation committees and one-stop centres with rooms."""

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db


class AreaKind(TitledEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"

    @classmethod
    def __titles__(cls):
        return {
            cls.DISTRICT: _l("District"),
            cls.STREET: _l("Street"),
            cls.COMMUNITY: _l("Community"),
            cls.GRID: _l("Grid"),
        }

    @property
    def depth(self) -> int:
        return list(AreaKind).index(self)

    @property
    def parent_kind(self) -> "AreaKind | None":
        return list(AreaKind)[self.depth - 1] if self.depth else None

    @property
    def child_kind(self) -> "AreaKind | None":
        kinds = list(AreaKind)
        return kinds[self.depth + 1] if self.depth + 1 < len(kinds) else None


class AreaNode(db.Model):
    """One node of the tree.  ``path`` is ``/<id>/<id>/…/`` from the root: a subtree is a prefix."""

    __tablename__ = "area_nodes"
    __table_args__ = (
        CheckConstraint("(kind = 'district') = (parent_id IS NULL)", name="root_is_district"),
        # Subtree queries are ``path LIKE '/1/5/%'``: PostgreSQL needs pattern ops for that.
        Index("ix_area_nodes_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AreaKind] = mapped_column(enum_column(AreaKind))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("area_nodes.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(255), default="")
    households: Mapped[int | None]
    # For a grid: the addresses it covers, one fragment a line (e.g. 文苑小区7号楼), so intake
    # can pick the grid from a dispute's address.
    address_hints: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["AreaNode | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["AreaNode"]] = relationship(
        back_populates="parent", order_by="AreaNode.code"
    )
    committees: Mapped[list["Committee"]] = relationship(back_populates="area")
    centres: Mapped[list["Centre"]] = relationship(back_populates="area")

    def __repr__(self) -> str:
        return f"<AreaNode {self.code} {self.name}>"

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    @property
    def hints(self) -> list[str]:
        return [line.strip() for line in (self.address_hints or "").splitlines() if line.strip()]

    @property
    def display_name(self) -> str:
        return f"{self.name}（{self.kind.title}）"


class Committee(db.Model):
    """A people's mediation committee (人民调解委员会) on a community or street node (PML 8, 34)."""

    __tablename__ = "committees"
    __table_args__ = (UniqueConstraint("area_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str] = mapped_column(String(30), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area_nodes.id", ondelete="RESTRICT"),
                                         index=True)
    registration_number: Mapped[str | None] = mapped_column(String(64))
    registered_on: Mapped[date | None]
    registration_authority: Mapped[str | None] = mapped_column(String(120))
    seal_holder: Mapped[str | None] = mapped_column(String(60))
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    # How its agreements are numbered; None uses the installation's default pattern.
    agreement_number_pattern: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[AreaNode] = relationship(back_populates="committees")

    def __repr__(self) -> str:
        return f"<Committee {self.short_name}>"


class Centre(db.Model):
    """A one-stop dispute-resolution centre (矛盾纠纷调处化解中心) on a street or district node."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area_nodes.id", ondelete="RESTRICT"),
                                         index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    notes: Mapped[str | None] = mapped_column(Text)
    # Sessions outside these hours (local time) need an explicit override.
    opens_at: Mapped[time] = mapped_column(default=time(8, 30), server_default="08:30:00")
    closes_at: Mapped[time] = mapped_column(default=time(17, 30), server_default="17:30:00")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[AreaNode] = relationship(back_populates="centres")
    rooms: Mapped[list["Room"]] = relationship(back_populates="centre", order_by="Room.name")


class Room(db.Model):
    """A mediation room at a centre."""

    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("centre_id", "name"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(60))
    capacity: Mapped[int]
    video_capable: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    centre: Mapped[Centre] = relationship(back_populates="rooms")


class Court(db.Model):
    """A people's court (人民法院) and the area it serves: where agreements are confirmed."""

    __tablename__ = "courts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # Usually a district: a basic court serves the district and everything below it.
    area_id: Mapped[int] = mapped_column(ForeignKey("area_nodes.id", ondelete="RESTRICT"),
                                         index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    area: Mapped[AreaNode] = relationship()

    def __repr__(self) -> str:
        return f"<Court {self.name}>"
