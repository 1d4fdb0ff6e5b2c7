"""case search: the hotline's ticket number in the searchable text

A resident or the hotline's operator quotes the 12345 ticket (工单号); the queue's search and
``q`` on the API now find the case by it (mediation/cases/search.py, ``document``). The
bodies of the cases that have a ticket are written again here, with it (and their bigrams
on PostgreSQL); downgrading writes them without.

Revision ID: b1a0d17a0024
Revises: b1a0d17a0023
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = 'b1a0d17a0024'
down_revision = 'b1a0d17a0023'
branch_labels = None
depends_on = None

BATCH = 2000


def _rewrite(with_ticket: bool) -> None:
    # As mediation.cases.search.document and bigrams at this revision.
    connection = op.get_bind()
    postgres = connection.dialect.name == 'postgresql'
    cases = sa.table("cases", sa.column("id"), sa.column("number"), sa.column("hotline_ticket"),
                     sa.column("title"), sa.column("narrative"), sa.column("address"))
    parties = sa.table("parties", sa.column("id"), sa.column("case_id"), sa.column("name"),
                       sa.column("phone"), sa.column("address"))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(cases).where(cases.c.hotline_ticket.is_not(None), cases.c.id > last)
            .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        people: dict[int, list] = {}
        for party in connection.execute(sa.select(parties).where(parties.c.case_id.in_(ids))
                                        .order_by(parties.c.id)):
            people.setdefault(party.case_id, []).extend([party.name, party.phone,
                                                         party.address])
        for row in rows:
            parts = [row.number, row.hotline_ticket if with_ticket else None, row.title,
                     row.narrative, row.address, *people.get(row.id, [])]
            body = "\n".join(part for part in parts if part).lower()
            if postgres:
                pairs = sorted({body[i:i + 2] for i in range(len(body) - 1)})
                connection.execute(sa.text("UPDATE case_search SET body = :body, "
                                           "bigrams = :pairs WHERE case_id = :id"),
                                   {"body": body, "pairs": pairs, "id": row.id})
            else:
                connection.execute(sa.text("UPDATE case_search SET body = :body "
                                           "WHERE case_id = :id"), {"body": body, "id": row.id})
        last = ids[-1]


def upgrade():
    _rewrite(with_ticket=True)


def downgrade():
    _rewrite(with_ticket=False)
