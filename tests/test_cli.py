"""The flask commands an operator runs: create-admin, seed-demo and prune."""

from datetime import timedelta

from api_helpers import cli_token
from sqlalchemy import func, select

from mediation.api.models import ApiToken, IdempotentReply
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.users.models import User, UserSession
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


# seed-demo itself: tests/test_demo.py (one seed shared by its tests).


def test_seed_demo_refuses_production(app_factory, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "z" * 40)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "Vb4mVOLk0x8l8r2ZqgXz7mYp3m3QqzGJ1uE3aVxQe7c=")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    app = app_factory("production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output


def test_prune_forgets_old_ended_logins_and_idempotency_replies(app, runner, demo_city):
    now = utcnow()
    mediator = db.session.scalar(select(User).where(User.username == "mediator"))

    def login(name, created_days_ago, revoked_days_ago=None):
        db.session.add(UserSession(
            user=mediator, token_hash=name.ljust(64, "0"),
            created_at=now - timedelta(days=created_days_ago),
            revoked_at=now - timedelta(days=revoked_days_ago)
            if revoked_days_ago is not None else None,
            revoked_reason="logout" if revoked_days_ago is not None else None))

    login("a-old-logout", 120, 119)  # ended long ago: goes
    login("b-old-expired", 100)  # never logged out, long past the absolute timeout: goes
    login("c-recent-logout", 30, 29)  # stays listed on the account's page
    login("d-current", 0)  # a live login: stays
    cli_token(app, "mediator")
    token = db.session.scalar(select(ApiToken))
    for key, days in (("old", 8), ("recent", 6)):
        db.session.add(IdempotentReply(token_id=token.id, key=key, request_hash="0" * 64,
                                       status=201, body={}, location=None,
                                       created_at=now - timedelta(days=days)))
    db.session.commit()

    result = runner.invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    assert "Removed 2 ended logins and 1 idempotency replies." in result.output
    db.session.expire_all()
    left = {row.token_hash.rstrip("0") for row in db.session.scalars(
        select(UserSession).where(UserSession.user_id == mediator.id))}
    assert left == {"c-recent-logout", "d-current"}
    assert set(db.session.scalars(select(IdempotentReply.key))) == {"recent"}
    assert runner.invoke(args=["prune"]).output.startswith("Removed 0 ended logins and 0")
