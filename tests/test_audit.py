"""The hash-chained, append-only audit log and ``flask audit-verify``."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mediation.core import audit
from mediation.core.audit import GENESIS, AuditEntry
from mediation.extensions import db


def _record_three():
    for n in range(3):
        audit.record("test.event", object_type="Thing", object_id=n, after={"n": n, "名": "值"})
    db.session.commit()


def _tamper(sql: str, **params):
    """Edit history the way a database administrator could: around the append-only guard."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        db.session.execute(text(sql), params)
        db.session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER audit_log_no_delete"))
        db.session.execute(text(sql), params)
    db.session.commit()


def test_entries_chain_from_genesis(app):
    _record_three()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    report = audit.verify_chain()
    assert report.ok and report.checked == 3 and report.head == entries[-1].hash


def test_verify_command_passes_on_intact_log(app, runner):
    _record_three()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0
    assert "3 entries" in result.output


def test_edited_entry_is_detected(app, runner):
    _record_three()
    second = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()[1]
    _tamper("UPDATE audit_log SET actor_name = 'someone-else' WHERE id = :id", id=second)
    report = audit.verify_chain()
    assert not report.ok and report.broken_id == second
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"entry {second}" in result.output


def test_removed_entry_is_detected(app):
    _record_three()
    ids = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
    _tamper("DELETE FROM audit_log WHERE id = :id", id=ids[1])
    report = audit.verify_chain()
    assert report.broken_id == ids[2]


def test_the_database_refuses_updates_and_deletes(app):
    _record_three()
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
            db.session.flush()
        db.session.rollback()
    assert audit.verify_chain().checked == 3


def test_admin_changes_are_audited_with_before_and_after(demo_city, auth):
    auth.login("admin")
    from mediation.areas.models import AreaNode

    grid = db.session.scalar(select(AreaNode).where(AreaNode.code == "370599001001-01"))
    response = auth.post(f"/areas/{grid.id}/edit", {"code": grid.code, "name": "文苑社区一网格",
                                                    "households": "260"})
    assert response.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "area.update"))
    assert entry.actor_name == "admin"
    assert entry.before["name"] == "文苑社区第1网格" and entry.after["name"] == "文苑社区一网格"
    assert entry.object_id == str(grid.id)
    assert audit.verify_chain().ok


def test_admin_reads_the_log_with_filters(demo_city, client, auth):
    auth.login("mediator", "Wrong-password-99")
    auth.login("admin")
    page = client.get("/admin/audit?action=login_failed").get_data(as_text=True)
    assert "login_failed" in page and "anonymous" in page  # failed attempts: not the owner
    assert "user.create" not in page
    page = client.get("/admin/audit?actor=admin").get_data(as_text=True)
    assert "<code>login</code>" in page and "login_failed" not in page
