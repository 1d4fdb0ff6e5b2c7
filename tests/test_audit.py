"""The signed, append-only audit log, ``flask audit-anchor`` and ``flask audit-verify``.

Each attack is played as someone who can change the database (its owner, who can switch
the triggers off) but does not hold AUDIT_KEY nor write access to the anchor file.
"""

import hashlib
import json
import socket
import subprocess
import uuid

import pytest
from flask_login import login_user
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mediation import create_app
from mediation.core import audit
from mediation.core.audit import GENESIS, SCHEME_HMAC, SCHEME_SHA256, AuditEntry
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.users.models import User

FERNET_KEY = "Vb4mVOLk0x8l8r2ZqgXz7mYp3m3QqzGJ1uE3aVxQe7c="


@pytest.fixture(autouse=True)
def anchor_file(app, tmp_path):
    path = tmp_path / "audit-anchors.log"
    app.config["AUDIT_ANCHOR_FILE"] = str(path)
    return path


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _record(count: int = 3, start: int = 0):
    for n in range(start, start + count):
        audit.record("test.event", object_type="Thing", object_id=n, after={"n": n, "名": "值"})
    db.session.commit()


def _ids() -> list[int]:
    return list(db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


def _tamper(*statements: tuple[str, dict]):
    """Change history as the database's owner could: with the append-only triggers off."""
    if _postgresql():
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
    else:
        db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("DROP TRIGGER audit_log_no_delete"))
    for sql, params in statements:
        db.session.execute(text(sql), params)
    if _postgresql():
        db.session.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    db.session.commit()


def _rewrite(scheme: str, key: bytes | None, start: int = 0, stop: int | None = None):
    """Edit the entry at ``start`` and recompute the chain from there, as a forger would."""
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    entries[start].actor_name = "someone-else"
    prev = entries[start - 1].hash if start else GENESIS
    updates = []
    for entry in entries[start:stop]:
        entry.prev_hash, entry.hash_scheme = prev, scheme
        entry.hash = prev = entry.compute_hash(key)
        updates.append(("UPDATE audit_log SET actor_name = :actor, prev_hash = :prev, "
                        "hash = :hash, hash_scheme = :scheme WHERE id = :id",
                        {"actor": entry.actor_name, "prev": entry.prev_hash, "hash": entry.hash,
                         "scheme": scheme, "id": entry.id}))
    db.session.expunge_all()
    _tamper(*updates)


def _verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["audit-verify"])
    return result.exit_code, result.output


def _anchor(runner):
    result = runner.invoke(args=["audit-anchor"])
    assert result.exit_code == 0, result.output


def test_entries_chain_from_genesis_signed_with_the_key(app):
    _record()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert {e.hash_scheme for e in entries} == {SCHEME_HMAC}
    report = audit.verify_chain()
    assert report.ok and report.checked == 3 and report.head == entries[-1].hash
    db.session.expunge_all()
    app.config["AUDIT_KEY"] = "another-key-than-the-one-that-signed"
    assert audit.verify_chain().broken_id == entries[0].id


def test_verify_command_passes_on_intact_log(runner):
    _record()
    code, output = _verify(runner)
    assert code == 0
    assert "审计日志完好：共 3 条" in output
    assert "没有锚点" in output  # and says how to get them


def test_edited_entry_is_detected(runner):
    _record()
    second = _ids()[1]
    _tamper(("UPDATE audit_log SET actor_name = 'someone-else' WHERE id = :id", {"id": second}))
    report = audit.verify_chain()
    assert not report.ok and report.broken_id == second
    code, output = _verify(runner)
    assert code == 1
    assert f"第 #{second} 条处损坏：其内容与签名不符" in output


def test_removed_entry_is_detected(runner):
    _record()
    ids = _ids()
    _tamper(("DELETE FROM audit_log WHERE id = :id", {"id": ids[1]}))
    assert audit.verify_chain().broken_id == ids[2]
    code, output = _verify(runner)
    assert code == 1 and f"第 #{ids[2]} 条处损坏：它与前一条记录衔接不上" in output


def test_the_database_refuses_updates_deletes_and_truncate(runner):
    _record()
    statements = ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log WHERE id = 1",
                  "DELETE FROM audit_log"]  # SQLite's truncate
    if _postgresql():
        statements += ["TRUNCATE audit_log", "TRUNCATE audit_log RESTART IDENTITY CASCADE"]
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(sql))
            db.session.flush()
        db.session.rollback()
    code, output = _verify(runner)
    assert code == 0 and "共 3 条" in output


@pytest.mark.parametrize(("scheme", "key", "start"), [
    (SCHEME_SHA256, None, 1),               # recomputed without a key, after signed entries
    (SCHEME_HMAC, b"a-guessed-key", 0),     # signed with a wrong key, from the first entry
    (SCHEME_HMAC, b"a-guessed-key", 2),
], ids=["unkeyed", "wrong-key-whole-log", "wrong-key-last-entry"])
def test_a_rewrite_with_recomputed_hashes_is_detected(runner, scheme, key, start):
    _record()
    ids = _ids()
    _rewrite(scheme, key, start)
    code, output = _verify(runner)
    assert code == 1
    assert f"第 #{ids[start]} 条处损坏" in output
    assert "没有审计密钥" in output


def test_a_whole_log_rewritten_unkeyed_is_found_by_its_anchor(runner):
    """Unsigned from the first entry on, the chain looks like one from before AUDIT_KEY:
    the signed anchor is what gives it away."""
    _record()
    _anchor(runner)
    _rewrite(SCHEME_SHA256, None, 0)
    code, output = _verify(runner)
    assert code == 1
    assert f"第 #{_ids()[-1]} 条与" in output and "（第 1 行）不符" in output


def test_a_whole_log_rewritten_unkeyed_without_anchors_is_refused(runner, anchor_file):
    """Relabelled plain SHA-256 from the first entry on, one entry edited, the chain
    recomputed: with no anchor to compare with, that not one entry is signed gives it away."""
    _record()
    _anchor(runner)
    _rewrite(SCHEME_SHA256, None, 0)
    anchor_file.unlink()  # or never written
    report = audit.verify_chain()
    assert not report.ok and report.reason == "unsigned" and report.broken_id == _ids()[0]
    code, output = _verify(runner)
    assert code == 1
    assert "审计日志共有 3 条记录，但没有一条带 AUDIT_KEY 签名" in output
    assert "改写" in output and "校验未通过" in output
    anchor_file.write_text("")  # emptied rather than removed
    assert _verify(runner)[0] == 1


def test_an_empty_log_verifies(runner):
    code, output = _verify(runner)
    assert code == 0, output
    assert "审计日志完好：共 0 条" in output


def _production_app(app_factory, monkeypatch, anchor_file):
    monkeypatch.setenv("SECRET_KEY", "z" * 40)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", FERNET_KEY)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    return app_factory("production", AUDIT_ANCHOR_FILE=str(anchor_file))


def test_production_fails_without_anchors_elsewhere_it_warns(app_factory, monkeypatch,
                                                              runner, anchor_file):
    _record()
    code, output = _verify(runner)  # the testing config
    assert code == 0 and "没有锚点" in output
    db.session.remove()  # PostgreSQL: the new app empties the shared schema, so let go of it
    production = _production_app(app_factory, monkeypatch, anchor_file)
    with production.app_context():
        runner = production.test_cli_runner()
        code, output = _verify(runner)
        assert code == 0 and "共 0 条" in output  # a fresh install has nothing to anchor yet
        _record()
        code, output = _verify(runner)
        assert code == 1
        assert "没有锚点" in output and "生产环境必须有锚点：审计日志校验未通过" in output
        _anchor(runner)
        code, output = _verify(runner)
        assert code == 0 and "1 个锚点与日志全部相符" in output


@pytest.mark.parametrize("how", ["delete", "truncate"])
def test_a_removed_tail_is_found_against_the_anchors(runner, how):
    _record(3)
    _anchor(runner)
    _record(2, start=3)
    _anchor(runner)
    ids = _ids()
    if how == "delete":
        _tamper(("DELETE FROM audit_log WHERE id > :id", {"id": ids[2]}))
    else:
        _tamper(("TRUNCATE audit_log" if _postgresql() else "DELETE FROM audit_log", {}))
    assert audit.verify_chain().broken_id is None  # what is left still links up
    code, output = _verify(runner)
    assert code == 1
    assert "审计日志末尾被删除" in output and "（第 2 行）" in output
    first = ids[3] if how == "delete" else 1
    assert f"缺失：#{first} 至 #{ids[4]}" in output
    assert "校验未通过" in output


def test_an_honest_log_with_anchors_verifies(runner, anchor_file):
    _anchor(runner)  # on an empty log
    _record(2)
    _anchor(runner)
    _anchor(runner)  # nothing new since: the same head again
    _record(3, start=2)
    _anchor(runner)
    _record(1, start=5)  # written after the last anchor
    lines = anchor_file.read_text().splitlines()
    assert [json.loads(line)["count"] for line in lines] == [0, 2, 2, 5]
    code, output = _verify(runner)
    assert code == 0, output
    assert "共 6 条" in output and "4 个锚点与日志全部相符" in output


def test_a_forged_anchor_line_is_reported(runner, anchor_file):
    _record()
    _anchor(runner)
    honest = json.loads(anchor_file.read_text())
    inflated = {**honest, "count": 2}  # its signature no longer fits
    guessed = audit.Anchor(honest["last_id"], honest["hash"], 9, honest["at"])
    guessed = {**json.loads(guessed.to_line()), "mac": guessed.expected_mac(b"a-guessed-key")}
    with anchor_file.open("a") as handle:
        for forged in (inflated, guessed):
            handle.write(json.dumps(forged) + "\n")
    code, output = _verify(runner)
    assert code == 1
    assert "第 2 行签名无效" in output and "第 3 行签名无效" in output
    assert "第 1 行" not in output


def test_entries_from_before_the_key_still_verify_and_stay_protected(runner):
    """An existing deployment: its entries were chained with plain SHA-256 until now."""
    prev = GENESIS
    for n in range(2):
        entry = AuditEntry(at=utcnow(), actor_id=None, actor_name="system", action="old.event",
                           object_type=None, object_id=str(n), before=None, after={"n": n},
                           ip=None, note=None, prev_hash=prev, hash_scheme=SCHEME_SHA256)
        # As the code before AUDIT_KEY computed it.
        canonical = json.dumps(entry.payload(), sort_keys=True, ensure_ascii=False,
                               separators=(",", ":"))
        entry.hash = prev = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        db.session.add(entry)
        db.session.flush()
    # The upgrade that brings AUDIT_KEY signs over them with a marker.
    assert audit.mark_keyed(db.session.connection(), audit.audit_key())
    db.session.commit()
    _record(2)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.hash_scheme for e in entries] == [SCHEME_SHA256] * 2 + [SCHEME_HMAC] * 3
    assert entries[2].action == audit.KEYED_MARKER and entries[2].prev_hash == entries[1].hash
    code, output = _verify(runner)
    assert code == 0 and "共 5 条" in output and "其中 2 条写于启用 AUDIT_KEY 之前" in output
    first_signed = entries[2].id
    _rewrite(SCHEME_SHA256, None, 0, stop=2)  # the old part, recomputed: no key needed
    code, output = _verify(runner)
    assert code == 1 and f"第 #{first_signed} 条处损坏：它与前一条记录衔接不上" in output


@pytest.fixture
def syslog_socket(tmp_path):
    path = tmp_path / "log.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    yield server, path
    server.close()


def test_the_anchor_also_goes_to_syslog_when_configured(app, runner, syslog_socket,
                                                         anchor_file):
    server, path = syslog_socket
    app.config["AUDIT_ANCHOR_SYSLOG"] = str(path)
    _record(2)
    _anchor(runner)
    message = server.recv(4096).decode("utf-8")
    assert message.startswith(f"<{10 * 8 + 6}>mediation-audit: ")  # authpriv.info
    anchors, problems = audit.read_anchors([message])
    assert problems == [] and anchors[0].count == 2
    assert anchors[0].to_line() == anchor_file.read_text().strip()
    # A syslog export is accepted by audit-verify as it is.
    export = anchor_file.parent / "export.log"
    export.write_text("Dec  6 01:00:00 app1 " + message.rstrip("\0") + "\n")
    result = runner.invoke(args=["audit-verify", "--anchors", str(export)])
    assert result.exit_code == 0 and "1 个锚点" in result.output


@pytest.fixture
def append_only(anchor_file):
    """The anchor file with the README's ``chattr +a``, where this machine allows it."""
    anchor_file.touch()
    if subprocess.run(["chattr", "+a", str(anchor_file)], capture_output=True).returncode:
        pytest.skip("chattr +a needs root and ext4/XFS")
    yield anchor_file
    subprocess.run(["chattr", "-a", str(anchor_file)], check=True)


def test_anchors_go_to_a_file_that_takes_only_appends(runner, append_only):
    _record(1)
    _anchor(runner)
    _anchor(runner)
    with pytest.raises(PermissionError):
        append_only.write_text("")  # what someone covering their tracks would try
    code, output = _verify(runner)
    assert code == 0 and "2 个锚点与日志全部相符" in output


def test_an_unwritable_anchor_file_is_a_clear_failure(app, runner, tmp_path):
    app.config["AUDIT_ANCHOR_FILE"] = str(tmp_path / "no-such-folder" / "anchors.log")
    result = runner.invoke(args=["audit-anchor"])
    assert result.exit_code != 0 and "无法写入锚点" in result.output


@pytest.fixture
def app_role(app):
    """A role with the grants the README's production section gives the app."""
    if not _postgresql():
        pytest.skip("PostgreSQL roles")
    role = f"mediation_app_{uuid.uuid4().hex[:8]}"
    schema = db.session.scalar(text("SELECT current_schema()"))
    for sql in (f"CREATE ROLE {role} NOLOGIN",
                f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
                f"TO {role}",
                f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}',
                f"REVOKE ALL ON audit_log FROM {role}",
                f"GRANT SELECT, INSERT ON audit_log TO {role}"):
        db.session.execute(text(sql))
    db.session.commit()
    yield role
    db.session.rollback()
    db.session.execute(text(f"DROP OWNED BY {role}"))
    db.session.execute(text(f"DROP ROLE {role}"))
    db.session.commit()


def test_the_apps_database_role_may_only_append_and_read(app_role):
    db.session.execute(text(f"SET LOCAL ROLE {app_role}"))
    _record(2)
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log",
                "TRUNCATE audit_log", "ALTER TABLE audit_log DISABLE TRIGGER USER",
                "DROP TRIGGER audit_log_append_only ON audit_log", "DROP TABLE audit_log"):
        db.session.execute(text(f"SET LOCAL ROLE {app_role}"))
        with pytest.raises(DBAPIError, match="permission denied|must be owner"):
            db.session.execute(text(sql))
        db.session.rollback()
    assert audit.verify_chain().checked == 2


def test_production_refuses_a_missing_or_short_audit_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", FERNET_KEY)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    with pytest.raises(RuntimeError, match="AUDIT_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")
    monkeypatch.setenv("AUDIT_KEY", "too-short")
    with pytest.raises(RuntimeError, match="AUDIT_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")
    monkeypatch.setenv("AUDIT_KEY", "k" * 40)
    assert create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://").config["AUDIT_KEY"] \
        == "k" * 40


def test_development_keeps_its_own_audit_key_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIATION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    monkeypatch.delenv("AUDIT_ANCHOR_FILE", raising=False)
    first = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    second = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    key = (tmp_path / "dev-audit-key").read_text().strip()
    assert first.config["AUDIT_KEY"] == second.config["AUDIT_KEY"] == key
    assert len(key) >= 32 and key != first.config["SECRET_KEY"]
    assert first.config["AUDIT_ANCHOR_FILE"] == str(tmp_path / "audit-anchors.log")


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


def test_a_log_rewritten_unsigned_then_signed_onto_is_found(runner):
    """Without anchors: every entry relabelled unsigned and recomputed, then the app signs
    its next entry onto the forged head. The first signed entry is no upgrade marker."""
    _record(3)
    _rewrite(SCHEME_SHA256, None, 0, stop=3)
    _record(1)
    code, output = _verify(runner)
    assert code == 1 and "却不是升级时写入的标记" in output


def test_acting_as_makes_every_entry_inside_its_doing_whatever_the_login(app):
    """A resident's action on a browser where staff are logged in: not the staff's entries,
    whoever the operations called along the way name; the login counts again after."""
    staff = User(id=4242, username="mediator", active=True, session_token="t")
    with app.test_request_context("/report", method="POST"):
        login_user(staff)
        with audit.acting_as("resident"):
            audit.record("test.plain")  # would fall back to the login
            audit.record("test.named", actor=staff, actor_name="mediator")
            with audit.acting_as("someone"):
                audit.record("test.nested")
            audit.record("test.after_nested")
        with pytest.raises(RuntimeError), audit.acting_as("resident"):
            raise RuntimeError("the action failed")
        audit.record("test.staff")

        @audit.acting_as("resident")
        def operation():
            audit.record("test.decorated")

        operation()
        operation()
        audit.record("test.staff_again")
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.actor_name) for e in entries] == [
        ("test.plain", None, "resident"), ("test.named", None, "resident"),
        ("test.nested", None, "someone"), ("test.after_nested", None, "resident"),
        ("test.staff", 4242, "mediator"), ("test.decorated", None, "resident"),
        ("test.decorated", None, "resident"), ("test.staff_again", 4242, "mediator")]
