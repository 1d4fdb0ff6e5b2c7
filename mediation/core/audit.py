"""The audit log (审计日志): append-only, every entry chained to the previous one by an HMAC.

The key (``AUDIT_KEY``) lives outside the database, so whoever can rewrite the table but
does not hold the key cannot recompute a chain that verifies. Entries written before the
key existed keep their plain SHA-256 (scheme ``sha256``); they may only form the start of
the chain, and the first keyed entry signs the last of them. ``flask audit-anchor``
writes the signed head outside the database, so a removed tail is found too. A log with
entries but not one signed is refused: the app signs every entry it writes, so such a log
was rewritten without the key (or nothing was written since the upgrade: one login fixes it).
"""

import enum
import hashlib
import hmac
import json
import logging
import logging.handlers
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, String, Text, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from mediation.core import bulk
from mediation.core.db import utcnow
from mediation.extensions import db

GENESIS = "0" * 64
SCHEME_SHA256 = "sha256"  # before AUDIT_KEY: anyone can recompute it
SCHEME_HMAC = "hmac-sha256"
# The first signed entry of a log that had unsigned ones, written by the migration that
# brought the key: whatever signed entry follows unsigned ones without it was appended to
# a log rewritten without the key.
KEYED_MARKER = "audit.keyed"
ANCHOR_TYPE = "audit-anchor"
# Any constant will do: it names the PostgreSQL advisory lock that serialises appends.
_APPEND_LOCK = 7_305_104_220
# Who acts without an account (see ``acting_as``); None: the caller or the login says.
_acting: ContextVar[str | None] = ContextVar("audit_acting_as", default=None)


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
    hash_scheme: Mapped[str] = mapped_column(String(16), server_default=SCHEME_SHA256)

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

    def compute_hash(self, key: bytes | None = None) -> str | None:
        """The hash this entry's content calls for under its scheme; None for an unknown one."""
        payload = self.payload()
        if self.hash_scheme == SCHEME_SHA256:
            return hashlib.sha256(_canonical(payload)).hexdigest()
        if self.hash_scheme != SCHEME_HMAC:
            return None
        payload["scheme"] = self.hash_scheme  # signed, so it cannot be downgraded quietly
        return _mac(key or audit_key(), "entry", payload)


def _canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _mac(key: bytes, purpose: str, data: dict) -> str:
    """HMAC-SHA256 over ``data``, with a purpose label so an entry's MAC is never an anchor's."""
    return hmac.new(key, f"{purpose}\n".encode() + _canonical(data), hashlib.sha256).hexdigest()


def audit_key() -> bytes:
    key = current_app.config.get("AUDIT_KEY")
    if not key:
        raise RuntimeError("AUDIT_KEY is not set: the audit log cannot be signed")
    return key.encode("utf-8")


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


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Every entry recorded inside is ``name``'s doing, with no account: a resident on the
    portal, whatever the operations called along the way pass on and whoever happens to be
    logged in on the browser (a mediator helping at the centre's computer).

    Also a decorator: ``@audit.acting_as(RESIDENT)`` on an operation residents call.
    """
    token = _acting.set(name)
    try:
        yield
    finally:
        _acting.reset(token)


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
    actor_id, name = _actor(actor, actor_name)
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
        hash_scheme=SCHEME_HMAC,
    )
    entry.hash = entry.compute_hash(audit_key())
    session.add(entry)
    session.flush()
    return entry


def _actor(actor: Any, actor_name: str | None) -> tuple[int | None, str]:
    acting = _acting.get()
    if acting is not None:
        return None, acting
    if actor is not None:
        return actor.id, actor_name or actor.username
    if actor_name:
        # Someone without an account (a resident, a failed login): never whoever happens
        # to be logged in on this browser.
        return None, actor_name
    return _current_actor()


def record_many(entries: list[dict]) -> int:
    """Append several entries in their order, as ``record`` appends each, but with one lock,
    one read of the chain's head and one INSERT: a nightly job writes thousands. Each dict
    holds ``action`` and ``record``'s keyword arguments but ``obj``; flushed, never
    committed. Returns how many were written."""
    if not entries:
        return 0
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    last = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    key, ip = audit_key(), request.remote_addr if has_request_context() else None
    rows = []
    for item in entries:
        actor_id, name = _actor(item.get("actor"), item.get("actor_name"))
        object_id = item.get("object_id")
        entry = _Unsaved(
            at=utcnow(), actor_id=actor_id, actor_name=name, action=item["action"],
            object_type=item.get("object_type"),
            object_id=None if object_id is None else str(object_id),
            before=jsonable(item.get("before")), after=jsonable(item.get("after")), ip=ip,
            note=item.get("note"), prev_hash=last or GENESIS, hash_scheme=SCHEME_HMAC)
        entry.hash = last = entry.compute_hash(key)
        rows.append(vars(entry))
    return bulk.insert_rows(AuditEntry, rows)


class _Unsaved(SimpleNamespace):
    """An entry's values before they are a row, hashed by the entry's own code (without the
    cost of a mapped object, thousands at a time)."""

    payload = AuditEntry.payload
    compute_hash = AuditEntry.compute_hash


def mark_keyed(connection, key: bytes) -> bool:
    """Sign the head of a log of unsigned entries with a marker (the migration that brings
    AUDIT_KEY calls it); False when there is nothing to mark."""
    table = AuditEntry.__table__
    last = connection.execute(select(table.c.hash, table.c.hash_scheme)
                              .order_by(table.c.id.desc()).limit(1)).first()
    if last is None or last.hash_scheme != SCHEME_SHA256:
        return False
    entry = AuditEntry(at=utcnow(), actor_id=None, actor_name="system", action=KEYED_MARKER,
                       object_type=None, object_id=None, before=None, after=None, ip=None,
                       note="AUDIT_KEY: entries from here on are signed",
                       prev_hash=last.hash, hash_scheme=SCHEME_HMAC)
    entry.hash = entry.compute_hash(key)
    connection.execute(table.insert().values(
        {column.key: getattr(entry, column.key) for column in table.columns
         if column.key != "id"}))
    return True


@dataclass(frozen=True)
class Anchor:
    """The signed head of the chain at one moment, kept outside the database."""

    last_id: int
    hash: str
    count: int
    at: str
    mac: str = ""
    line: int = 0  # where it was read from, for the report

    def signed_fields(self) -> dict:
        return {"type": ANCHOR_TYPE, "last_id": self.last_id, "hash": self.hash,
                "count": self.count, "at": self.at}

    def expected_mac(self, key: bytes) -> str:
        return _mac(key, "anchor", self.signed_fields())

    def to_line(self) -> str:
        return json.dumps({**self.signed_fields(), "mac": self.mac}, ensure_ascii=False,
                          separators=(",", ":"))


def make_anchor() -> Anchor:
    """Sign the current head: the last entry's id and hash, and how many entries lead to it."""
    head = db.session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    last_id, last_hash = head if head else (0, GENESIS)
    # Appends are serialised and commit in id order, so this count matches last_id.
    count = db.session.scalar(select(func.count()).where(AuditEntry.id <= last_id))
    anchor = Anchor(last_id, last_hash, count, utcnow().isoformat(timespec="seconds"))
    return replace(anchor, mac=anchor.expected_mac(audit_key()))


def write_anchor(anchor: Anchor, path: str, syslog_address: str | None = None) -> None:
    """Append the anchor to ``path`` (opened for appending only: ``chattr +a`` allows no
    more) and, when configured, send it to syslog (authpriv) too; raises OSError."""
    line = anchor.to_line()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if syslog_address:
        host, _, port = syslog_address.rpartition(":")
        address = (host, int(port)) if host and port.isdigit() else syslog_address
        handler = logging.handlers.SysLogHandler(
            address=address, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
        handler.ident = "mediation-audit: "
        try:
            handler.emit(logging.makeLogRecord(
                {"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))
        finally:
            handler.close()


@dataclass(frozen=True)
class AnchorProblem:
    """``unreadable``/``forged`` (the line itself), ``mismatch``/``count``/``missing`` (the
    log differs from what was anchored), ``tail`` (entries after the head were removed)."""

    kind: str
    line: int
    anchor: Anchor | None = None
    entry_id: int | None = None
    head_id: int = 0
    total: int = 0


def read_anchors(lines: Iterable[str]) -> tuple[list[Anchor], list[AnchorProblem]]:
    """The anchors whose signature holds, and a problem for every other anchor line.

    Lines without an anchor are skipped, so a syslog export (prefixes and all) reads too.
    """
    key = audit_key()
    anchors, problems = [], []
    for number, line in enumerate(lines, start=1):
        if ANCHOR_TYPE not in line:
            continue
        try:
            # raw_decode: syslog adds a prefix and may add a NUL after the JSON.
            data, _end = json.JSONDecoder().raw_decode(line, line.index("{"))
            anchor = Anchor(int(data["last_id"]), str(data["hash"]), int(data["count"]),
                            str(data["at"]), str(data["mac"]), number)
        except (ValueError, KeyError, TypeError):
            problems.append(AnchorProblem("unreadable", number))
            continue
        if data.get("type") != ANCHOR_TYPE or not hmac.compare_digest(
                anchor.mac.encode(), anchor.expected_mac(key).encode()):
            problems.append(AnchorProblem("forged", number, anchor))
            continue
        anchors.append(anchor)
    return anchors, problems


@dataclass
class ChainReport:
    checked: int  # entries intact before the first break (all of them if none)
    head: str
    head_id: int = 0
    total: int = 0
    unkeyed: int = 0
    broken_id: int | None = None
    reason: str | None = None  # link, content, downgrade, scheme, unmarked or unsigned
    anchor_problems: list[AnchorProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken_id is None and not self.anchor_problems


def verify_chain(batch: int = 2000, anchors: Iterable[Anchor] = ()) -> ChainReport:
    """Walk the chain in order: report the first entry whose link, scheme or signature does
    not hold, and every anchor the log no longer matches (changed, missing, cut off)."""
    key = audit_key()
    by_id: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        by_id.setdefault(anchor.last_id, []).append(anchor)
    report = ChainReport(checked=0, head=GENESIS)
    problems = report.anchor_problems
    keyed_seen = False
    first_id = last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            report.total += 1
            first_id = first_id or entry.id
            if report.broken_id is None:
                reason = _broken(entry, report.head, keyed_seen, key)
                if not reason and not keyed_seen and report.unkeyed \
                        and entry.hash_scheme == SCHEME_HMAC and entry.action != KEYED_MARKER:
                    reason = "unmarked"  # signed onto a log rewritten without the key
                if reason:
                    report.broken_id, report.reason = entry.id, reason
                else:
                    keyed_seen = keyed_seen or entry.hash_scheme == SCHEME_HMAC
                    report.unkeyed += entry.hash_scheme == SCHEME_SHA256
                    report.head, report.checked = entry.hash, report.checked + 1
            for anchor in by_id.pop(entry.id, ()):
                if entry.hash != anchor.hash:
                    problems.append(AnchorProblem("mismatch", anchor.line, anchor, entry.id))
                elif report.total != anchor.count:
                    problems.append(AnchorProblem("count", anchor.line, anchor, entry.id,
                                                  total=report.total))
            last_id = report.head_id = entry.id
        db.session.expunge_all()
    if report.broken_id is None and report.total and not keyed_seen:
        _refuse_unsigned(report, first_id)
    beyond = [a for found in by_id.values() for a in found if a.last_id > report.head_id]
    for found in by_id.values():
        for anchor in found:
            if 0 < anchor.last_id <= report.head_id:
                problems.append(AnchorProblem("missing", anchor.line, anchor, anchor.last_id))
    if beyond:
        latest = max(beyond, key=lambda a: (a.last_id, a.line))
        problems.append(AnchorProblem("tail", latest.line, latest, latest.last_id,
                                      head_id=report.head_id, total=report.total))
    problems.sort(key=lambda p: p.line)
    return report


def _refuse_unsigned(report: ChainReport, first_id: int) -> None:
    """Entries, but not one signed: anyone can have recomputed such a chain, so none of it
    can be trusted.

    This is the only rewrite without the key that a chain check alone could miss. Let S
    be the first signed entry that is left. Its MAC covers its content, its scheme and
    its prev_hash, and so does that of every signed entry after it; an unsigned entry
    after a signed one is a ``downgrade``. So from S on nothing can be edited, inserted,
    relabelled or removed (short of the end, which the anchors cover). Before S every
    entry is plain SHA-256, and S fixes the hash of the entry just before it: the value
    it had when S was written. Changing, relabelling, adding or removing anything up to
    there (a signed entry turned unsigned included) needs a chain whose last plain hash
    equals that fixed value, that is a SHA-256 preimage. Any rewrite that keeps at least
    one signed entry is therefore found; one that keeps none is refused here.
    """
    report.broken_id, report.reason = first_id, "unsigned"
    report.checked, report.head = 0, GENESIS


def _broken(entry: AuditEntry, expected_prev: str, keyed_seen: bool, key: bytes) -> str | None:
    if entry.prev_hash != expected_prev:
        return "link"
    if entry.hash_scheme not in (SCHEME_SHA256, SCHEME_HMAC):
        return "scheme"
    if entry.hash_scheme == SCHEME_SHA256 and keyed_seen:
        return "downgrade"
    expected = entry.compute_hash(key)
    if expected is None or not hmac.compare_digest(expected.encode(), entry.hash.encode()):
        return "content"
    return None
