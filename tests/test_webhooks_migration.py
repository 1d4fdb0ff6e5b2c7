"""The webhooks revision (b1a0d17a0022) over a database in use, down and up again: the cases
keep their rows and their children (SQLite adds and drops cases.hotline_ticket without
copying the table), and the ticket's CHECK is back under the models' name."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cases_helpers import area, make_case, user
from sqlalchemy import inspect, text
from test_migrations_with_data import _columns, _migrate, _refused, _rows, in_use  # noqa: F401

from mediation.cases.states import Source
from mediation.core.db import include_object
from mediation.extensions import db

BEFORE = "b1a0d17a0021"
CASES = "SELECT id, number, state, source, grid_id FROM cases ORDER BY id"


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_webhooks_revision_down_and_up_keeps_the_cases_and_their_children(in_use):  # noqa: F811
    hotline = make_case(user("mediator"), grid=area("370599001001-01"), source=Source.HOTLINE,
                        hotline_ticket="SD12345-0042")
    db.session.commit()
    hotline_id = hotline.id
    cases, kept = db.session.execute(text(CASES)).all(), _rows()
    assert len(kept["session_participants"]) == len(in_use["session_participants"])

    _migrate("downgrade", BEFORE)
    assert "hotline_ticket" not in _columns("cases")
    assert not {"webhook_subscribers", "webhook_events", "webhook_deliveries",
                "webhook_attempts"} & set(inspect(db.session.connection()).get_table_names())
    assert _rows() == kept and db.session.execute(text(CASES)).all() == cases
    db.session.commit()

    _migrate("upgrade", "head")
    assert _rows() == kept and db.session.execute(text(CASES)).all() == cases
    assert db.session.execute(text("SELECT count(*) FROM cases WHERE hotline_ticket IS NOT "
                                   "NULL")).scalar() == 0  # the downgrade forgot it
    db.session.execute(text("UPDATE cases SET hotline_ticket = 'SD12345-0042' WHERE id = :id"),
                       {"id": hotline_id})
    db.session.commit()
    walk_in = next(row.id for row in cases if row.source != "hotline")
    assert "ck_cases_hotline_ticket_of_hotline" in _refused(
        f"UPDATE cases SET hotline_ticket = 'SD1' WHERE id = {walk_in}")
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                          "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []
