"""The schema comes from the migrations, and SQLite writers queue instead of failing."""

import threading
import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from mediation.areas import operations
from mediation.areas.models import AreaNode
from mediation.core.db import include_object, write_intent
from mediation.extensions import db
from mediation.users.models import User
from mediation.users.roles import Role


# SQLite's reflection cannot read expression indexes (lower(username)); it says so and skips.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_models_and_migrations_agree(app):
    """Autogenerate against the migrated database finds nothing to do."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                          "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_downgrade_and_upgrade_again(app):
    from flask_migrate import downgrade, upgrade

    db.session.remove()
    downgrade(revision="base")
    with db.engine.connect() as connection:
        tables = db.inspect(connection).get_table_names()
    assert "area_nodes" not in tables
    upgrade()
    operations.create_area(None, parent=None, code="1", name="区")
    db.session.commit()


def test_downgrading_past_the_keyed_audit_log_is_refused_once_entries_are_signed(app):
    from alembic import command
    from flask import current_app

    from mediation.core import audit

    audit.record("test.event", object_type="Thing", object_id=1)
    db.session.commit()
    db.session.remove()
    config = current_app.extensions["migrate"].migrate.get_config()
    with pytest.raises(RuntimeError, match="signed with AUDIT_KEY"):
        command.downgrade(config, "9c4d1e7f2b63")
    command.upgrade(config, "head")  # wherever the refusal left it (SQLite runs DDL unwrapped)
    assert audit.verify_chain().ok and audit.verify_chain().total == 1


def test_the_upgrade_signs_over_an_existing_log_with_a_marker(app):
    """A deployment from before AUDIT_KEY: its plain SHA-256 entries stay as they are, the
    upgrade signs over them, and the log verifies."""
    import hashlib
    import json

    from alembic import command
    from flask import current_app

    from mediation.core import audit

    db.session.remove()
    config = current_app.extensions["migrate"].migrate.get_config()
    command.downgrade(config, "9c4d1e7f2b63")
    prev = audit.GENESIS
    for n in range(2):  # as the code before AUDIT_KEY wrote them
        at = audit.utcnow()
        payload = {"at": at.isoformat(timespec="microseconds"), "actor_id": None,
                   "actor_name": "system", "action": "old.event", "object_type": None,
                   "object_id": str(n), "before": None, "after": None, "ip": None,
                   "note": None, "prev_hash": prev}
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False,
                                           separators=(",", ":")).encode()).hexdigest()
        db.session.execute(text(
            "INSERT INTO audit_log (at, actor_name, action, object_id, prev_hash, hash) "
            "VALUES (:at, 'system', 'old.event', :n, :prev, :hash)"),
            {"at": at, "n": str(n), "prev": prev, "hash": digest})
        prev = digest
    db.session.commit()
    db.session.remove()
    command.upgrade(config, "head")
    entries = db.session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.id)).all()
    assert [e.action for e in entries] == ["old.event", "old.event", audit.KEYED_MARKER]
    assert entries[2].prev_hash == entries[1].hash
    audit.record("test.event")
    db.session.commit()
    report = audit.verify_chain()
    assert report.ok and report.total == 4 and report.unkeyed == 2


def test_sqlite_pragmas(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_postgresql_connections_compile_no_query(app):
    """JIT compilation is off on every connection of the pool, after a rollback too (the
    administrator's dashboard spent 210 ms compiling a 24 ms query at a city's size)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    db.engine.dispose()  # new connections, through the connect hook
    with db.engine.connect() as first, db.engine.connect() as second:
        first.rollback()
        for connection in (first, second):
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"


def test_foreign_keys_are_enforced(app):
    with pytest.raises(Exception, match="(?i)foreign key"):
        db.session.execute(text("INSERT INTO area_nodes (code, name, kind, parent_id, path, "
                                "created_at) VALUES ('x', 'x', 'street', 9999, '/', "
                                "CURRENT_TIMESTAMP)"))
        db.session.flush()
    db.session.rollback()


def test_concurrent_read_then_write_transactions_queue(app):
    """Both writers read, then write; neither fails with 'database is locked'."""
    district = operations.create_area(None, parent=None, code="900", name="测试区")
    district_id = district.id
    db.session.commit()  # and hold no transaction open while the writers run
    errors = []

    def writer(n):
        with app.app_context():
            try:
                write_intent.set(True)
                for i in range(5):
                    parent = db.session.get(AreaNode, district_id)  # read first
                    time.sleep(0.02)  # let the others read too: deferred locks would clash
                    operations.create_area(None, parent=parent, code=f"900{n}{i:02d}",
                                           name=f"街道{n}-{i}")
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    count = db.session.scalar(select(db.func.count()).select_from(AreaNode)
                              .where(AreaNode.parent_id == district_id))
    assert count == 20


def test_the_database_refuses_a_username_differing_only_in_case(demo_city):
    """The accounts page checks it too; the unique index holds against a race or a script."""
    db.session.add(User(username="MEDIATOR", full_name="重名", role=Role.MEDIATOR,
                        password_hash="!"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
