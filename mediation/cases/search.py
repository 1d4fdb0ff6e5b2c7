"""Case search: one text per case holding everything a search may match, indexed for substrings.

A search finds a case when its words occur anywhere in the case's number, hotline ticket,
title, narrative or address, or in a party's name, phone or address (substring semantics:
漏水 finds 楼上漏水).
Each case keeps that text in ``case_search.body``, lower-cased, rewritten in the same flush
whenever the case or one of its parties changes (``_touched`` / ``_rewrite`` below), so the
pages, the API and the CLI need not remember it.

On PostgreSQL two GIN indexes answer the substring test without reading every case: one
over the body's distinct character bigrams (column ``bigrams``, written with the body), for
two-character queries — the common Chinese case (漏水, 王芳), which yields no trigram; a body
holds a two-character word exactly when its bigrams do — and pg_trgm's over the body, for
longer ones (its candidates are checked by the LIKE itself). A one-character query reads
every body, as SQLite does for any query.
"""

from collections.abc import Iterable

from sqlalchemy import (
    ForeignKey,
    Text,
    column,
    delete,
    event,
    insert,
    inspect,
    literal_column,
    select,
    table,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, Session, mapped_column

from mediation.extensions import db

# What is compared when a case changes: the fields the body is made of.
CASE_FIELDS = ("number", "hotline_ticket", "title", "narrative", "address", "grid_id")
PARTY_FIELDS = ("name", "phone", "address", "case_id")


class CaseSearch(db.Model):
    """The searchable text of one case (see the module's docstring)."""

    __tablename__ = "case_search"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    # The case's grid, repeated here so that a jurisdiction's search is answered from this
    # table's indexes alone (the bigrams' and the grid's, combined).
    grid_id: Mapped[int] = mapped_column(index=True)
    body: Mapped[str] = mapped_column(Text)


def normalise(text: str) -> str:
    """How both the body and a query are compared: lower-cased (names in Latin letters)."""
    return text.lower()


def document(number: str, title: str, narrative: str | None, address: str | None,
             parties: Iterable[tuple[str | None, str | None, str | None]],
             hotline_ticket: str | None = None) -> str:
    """The body for a case; ``parties`` are (name, phone, address) triples; the hotline's
    ticket number (工单号) too, which the hotline's operators quote."""
    parts = [number, hotline_ticket, title, narrative, address]
    for name, phone, party_address in parties:
        parts += [name, phone, party_address]
    return normalise("\n".join(part for part in parts if part))


def bigrams(text: str) -> list[str]:
    """The text's distinct two-character pieces: PostgreSQL's ``case_search.bigrams``."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


# PostgreSQL's column of the body's distinct bigrams (migrations b1a0d17a0016 and 0019), not
# in the model because SQLite has none; written by ``rewrite`` and by ``flask seed-scale``.
BIGRAMS = type_coerce(literal_column("case_search.bigrams"), ARRAY(Text))
WITH_BIGRAMS = table("case_search", column("case_id"), column("grid_id"), column("body"),
                     column("bigrams", ARRAY(Text)))


def matching_case_ids(words: Iterable[str]):
    """The ids of the cases whose body contains any of ``words`` (already normalised): a
    select of ``CaseSearch.case_id`` that the caller may narrow further."""
    postgres = db.engine.dialect.name == "postgresql"
    conditions = []
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        if postgres and len(word) == 2:
            # No trigram in two characters: the body holds them iff its bigrams hold them.
            conditions.append(BIGRAMS.contains(type_coerce([word], ARRAY(Text))))
        else:
            conditions.append(CaseSearch.body.like(pattern, escape="\\"))
    return select(CaseSearch.case_id).where(db.or_(*conditions))


# ---- keeping the body current -----------------------------------------------------------

def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "before_flush")
def _touched(session, _context, _instances) -> None:
    """Note the cases whose searchable text this flush changes."""
    from mediation.cases.models import Case, Party

    touched = session.info.setdefault("search_touched", set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Case) and obj not in session.deleted and (
                obj in session.new or _changed(obj, CASE_FIELDS)):
            touched.add(obj)
        elif isinstance(obj, Party) and (obj in session.new or obj in session.deleted
                                         or _changed(obj, PARTY_FIELDS)):
            for case_id in {obj.case_id, *inspect(obj).attrs["case_id"].history.deleted}:
                if case_id is not None:
                    touched.add(case_id)
            if obj.case is not None:
                touched.add(obj.case)


@event.listens_for(Session, "after_flush_postexec")
def _rewrite(session, _context) -> None:
    """Write the noted cases' bodies in the same transaction, from what is now stored."""
    touched = session.info.pop("search_touched", None)
    if not touched:
        return
    from mediation.cases.models import Case, Party

    ids = {item if isinstance(item, int) else item.id for item in touched}
    ids.discard(None)
    if ids:
        rewrite(session.connection(), ids, Case.__table__, Party.__table__)


def rewrite(connection, ids, cases, parties) -> None:
    """Rewrite the bodies of the cases ``ids`` (that still exist) from their stored rows."""
    ids = sorted(ids)
    rows = connection.execute(select(cases.c.id, cases.c.grid_id, cases.c.number,
                                     cases.c.title, cases.c.narrative, cases.c.address,
                                     cases.c.hotline_ticket)
                              .where(cases.c.id.in_(ids))).all()
    people: dict[int, list] = {}
    for case_id, name, phone, address in connection.execute(
            select(parties.c.case_id, parties.c.name, parties.c.phone, parties.c.address)
            .where(parties.c.case_id.in_(ids)).order_by(parties.c.id)):
        people.setdefault(case_id, []).append((name, phone, address))
    stored = CaseSearch.__table__
    connection.execute(delete(stored).where(stored.c.case_id.in_(ids)))
    if not rows:
        return
    values = [{"case_id": row.id, "grid_id": row.grid_id,
               "body": document(row.number, row.title, row.narrative, row.address,
                                people.get(row.id, ()), row.hotline_ticket)} for row in rows]
    if connection.dialect.name == "postgresql":
        connection.execute(insert(WITH_BIGRAMS),
                           [{**value, "bigrams": bigrams(value["body"])} for value in values])
    else:
        connection.execute(insert(stored), values)
