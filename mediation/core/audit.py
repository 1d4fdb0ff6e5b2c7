"""The audit log (审计日志): append-only, every entry chained to the previous one by hash."""

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from mediation.core.db import utcnow
from mediation.extensions import db

GENESIS = "0" * 64
# Any constant will do: it names the PostgreSQL advisory lock that serialises appends.
_APPEND_LOCK = 7_305_104_220


class AuditEntry(db.Model):
    """One thing that happened: who, when, what, on which object, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None]
    actor_name: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    note: Mapped[str | None] = mapped_column(Text)
    # UNIQUE on prev_hash makes a fork of the chain impossible, not just detectable.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field that differs, in a stable order."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before, *after]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    def payload(self) -> dict:
        return {
            "at": self.at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "before": self.before,
            "after": self.after,
            "ip": self.ip,
            "note": self.note,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.payload(), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def jsonable(value: Any) -> Any:
    """Turn model values into plain JSON (dates as ISO text, enums as their value)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def snapshot(obj: Any, fields: list[str]) -> dict:
    """The named attributes of ``obj`` as a JSON-ready dict, for before/after."""
    return {name: jsonable(getattr(obj, name)) for name in fields}


def _current_actor() -> tuple[int | None, str]:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.username
    return None, "system"


def record(
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    actor: Any = None,
    actor_name: str | None = None,
    note: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain; flushed with the caller's transaction, never committed."""
    if obj is not None:
        object_type = object_type or type(obj).__name__
        if object_id is None:
            db.session.flush()
            object_id = getattr(obj, "id", None)
    if actor is not None:
        actor_id, name = actor.id, actor.username
    else:
        actor_id, name = _current_actor()
    if actor_name:
        name = actor_name
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor_id,
        actor_name=name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=jsonable(before),
        after=jsonable(after),
        ip=request.remote_addr if has_request_context() else None,
        note=note,
        prev_hash=last or GENESIS,
    )
    entry.hash = entry.compute_hash()
    session.add(entry)
    session.flush()
    return entry


@dataclass
class ChainReport:
    checked: int
    head: str
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(batch: int = 2000) -> ChainReport:
    """Walk the chain in order; report the first entry whose link or content does not match."""
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return ChainReport(checked=checked, head=expected_prev)
        for entry in rows:
            if entry.prev_hash != expected_prev:
                return ChainReport(checked, expected_prev, entry.id,
                                   "prev_hash does not match the entry before it "
                                   "(an entry was removed or reordered)")
            if entry.compute_hash() != entry.hash:
                return ChainReport(checked, expected_prev, entry.id,
                                   "content does not match its hash (the entry was edited)")
            expected_prev = entry.hash
            checked += 1
            last_id = entry.id
        db.session.expunge_all()
