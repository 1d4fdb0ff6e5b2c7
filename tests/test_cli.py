"""The flask commands an operator runs: create-admin and seed-demo."""

from sqlalchemy import func, select

from mediation.areas.models import AreaKind, AreaNode, Centre, Committee, Room
from mediation.cases.models import Case
from mediation.cases.states import CaseState
from mediation.core import audit
from mediation.extensions import db
from mediation.users.models import User
from mediation.users.roles import Role


def test_create_admin(app, runner):
    result = runner.invoke(args=["create-admin", "chief", "--full-name", "王主任",
                                 "--password", "Dongying-Harbour-Lights"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "chief"))
    assert user.role is Role.ADMIN and user.full_name == "王主任"
    assert user.password_hash.startswith("$argon2id$")


def test_create_admin_refuses_a_weak_password_and_saves_nothing(app, runner):
    result = runner.invoke(args=["create-admin", "chief", "--full-name", "王主任",
                                 "--password", "password1234"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_admin_refuses_a_taken_username(app, runner):
    args = ["create-admin", "chief", "--full-name", "王主任", "--password",
            "Dongying-Harbour-Lights"]
    runner.invoke(args=args)
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def _counts():
    rows = db.session.execute(select(AreaNode.kind, func.count()).group_by(AreaNode.kind))
    kinds = {kind: count for kind, count in rows}
    return (kinds, db.session.scalar(select(func.count()).select_from(Committee)),
            db.session.scalar(select(func.count()).select_from(Room)),
            db.session.scalar(select(func.count()).select_from(User)))


def test_seed_demo_builds_the_city_once(app, runner):
    # The testing config leaves the ~200 demo cases out (the fixtures seed the city for
    # every test); this test asks for them.
    app.config["DEMO_CASES"] = True
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for username in ("admin", "coordinator", "mediator", "gridworker", "legalaid"):
        assert username in result.output
    kinds, committees, rooms, users = _counts()
    assert kinds == {AreaKind.DISTRICT: 1, AreaKind.STREET: 3, AreaKind.COMMUNITY: 9,
                     AreaKind.GRID: 60}
    # The 5 demo accounts and 10 staff for the other communities' cases.
    assert committees == 12 and users == 15 and rooms >= 4
    states = dict(db.session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
    assert sum(states.values()) == 200 and set(states) == set(CaseState)
    assert audit.verify_chain().ok
    street_centre = db.session.scalar(select(Centre).join(Centre.area)
                                      .where(AreaNode.kind == AreaKind.STREET))
    assert street_centre.rooms
    # Real names, in Chinese.
    assert db.session.scalar(select(User.full_name).where(User.username == "mediator")) == "张志强"
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert _counts() == (kinds, committees, rooms, users)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 200


def test_seed_demo_refuses_production(app_factory, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "z" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "Vb4mVOLk0x8l8r2ZqgXz7mYp3m3QqzGJ1uE3aVxQe7c=")
    app = app_factory("production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
