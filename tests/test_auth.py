"""Login, lockout, CSRF, timeouts and server-side session invalidation."""

from datetime import timedelta

from conftest import DEMO_PASSWORD, Auth
from sqlalchemy import func, select

from mediation import demo
from mediation.core.audit import AuditEntry
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.users.models import PasswordHistory, User, UserSession
from mediation.users.passwords import password_problems, weak_words

NEW_PASSWORD = "Huanghe-Riverbank-77"


def _actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _user(username):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_login_and_home(demo_city, client, auth):
    response = auth.login("mediator")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "张志强" in client.get("/").get_data(as_text=True)
    assert _actions()[-1] == "login"


def test_username_is_case_insensitive(demo_city, auth):
    assert auth.login("Mediator").status_code == 302


def test_wrong_password_is_refused_and_audited(demo_city, client, auth):
    response = auth.login("mediator", "Wrong-password-123")
    assert response.status_code == 200
    assert client.get("/account").status_code == 302  # still not logged in
    assert _actions()[-1] == "login_failed"
    assert _user("mediator").failed_logins == 1


def test_unknown_user_is_audited_without_revealing_it(demo_city, auth):
    wrong_user = auth.login("nobody", "Whatever-password-1").get_data(as_text=True)
    wrong_pass = auth.login("mediator", "Whatever-password-1").get_data(as_text=True)
    assert _actions()[-2:] == ["login_failed", "login_failed"]
    # The same message either way: the page does not reveal which usernames exist.
    assert wrong_user.count("flash--error") == wrong_pass.count("flash--error") == 1


def test_lockout_after_repeated_failures(demo_city, app, client, auth):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login("gridworker", "Not-the-password-1")
    user = _user("gridworker")
    assert user.locked_until is not None and user.locked_until > utcnow()
    assert "account_locked" in _actions()
    # Even the right password is refused while locked.
    assert auth.login("gridworker").status_code == 200
    assert client.get("/account").status_code == 302
    assert _actions()[-1] == "login_refused_locked"
    # After the lockout has passed, the right password works again.
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert auth.login("gridworker").status_code == 302


def test_each_lockout_before_a_successful_login_lasts_twice_as_long(demo_city, app, auth):
    lockout, user = app.config["LOGIN_LOCKOUT"], _user("gridworker")
    lengths = []
    for _round in range(3):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            auth.login("gridworker", "Not-the-password-1")
        db.session.refresh(user)
        lengths.append(user.locked_until - utcnow())
        user.locked_until = utcnow() - timedelta(seconds=1)  # this lockout has run out
        db.session.commit()
    for length, minutes in zip(lengths, (15, 30, 60), strict=True):
        assert timedelta(minutes=minutes - 1) < length <= timedelta(minutes=minutes), lengths
    assert lockout == timedelta(minutes=15)
    # A successful login starts the count again.
    assert auth.login("gridworker").status_code == 302
    db.session.refresh(user)
    assert user.lockouts == 0


def test_login_without_csrf_token_is_rejected(demo_city, client):
    response = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_state_changes_need_post_with_csrf(demo_city, client, auth):
    auth.login("admin")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token
    assert client.get("/account").status_code == 200  # still logged in
    assert client.get("/language?lang=en").status_code == 405


def test_open_redirect_after_login_is_refused(demo_city, client, auth):
    # Through both steps of the administrator's login: enrolment, then a code.
    response = auth.login("admin", next="//evil.example/x")
    assert response.headers["Location"] == "/"
    auth.logout()
    response = auth.login("admin", next="/areas/")
    assert response.headers["Location"] == "/areas/"


def test_replayed_cookie_after_logout_is_rejected(demo_city, app, client, auth):
    auth.login("coordinator")
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    auth.logout()
    attacker = app.test_client()
    attacker.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert attacker.get("/account").status_code == 302


def test_password_change_ends_other_sessions(demo_city, app, client, auth):
    auth.login("mediator")
    other = app.test_client()
    Auth(other).login("mediator")
    old_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    response = auth.post("/account/password", {
        "current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this login continues on a new session
    assert other.get("/account").status_code == 302  # the other login has ended
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], old_cookie)
    assert replay.get("/account").status_code == 302
    assert "password_changed" in _actions()
    auth.logout()
    assert auth.login("mediator", DEMO_PASSWORD).status_code == 200
    assert auth.login("mediator", NEW_PASSWORD).status_code == 302


def test_password_change_enforces_the_policy(demo_city, client, auth):
    auth.login("mediator")
    for weak in ("short-1", "password1234", "woaini1314520", "aaaaaaaaaaaaaaa"):
        response = auth.post("/account/password", {
            "current_password": DEMO_PASSWORD, "password": weak, "confirm": weak})
        assert response.status_code == 200, weak
    assert auth.post("/account/password", {
        "current_password": "wrong-current-pw", "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}).status_code == 200
    auth.logout()
    assert auth.login("mediator").status_code == 302  # unchanged


def test_the_products_and_the_citys_words_make_a_password_weak(demo_city, app, auth):
    auth.login("mediator")
    response = auth.post("/account/password", {
        "current_password": DEMO_PASSWORD, "password": "tiaojie123456",
        "confirm": "tiaojie123456"})
    assert response.status_code == 200
    assert "本系统、本市或辖区的名称（tiaojie）" in response.get_data(as_text=True)
    with app.test_request_context():
        words = weak_words()
        assert {"tiaojie", "renmin", "mediation", "东湖区", "东湖", "文汇街道", "文汇"} \
            <= set(words)
        assert "文苑社区" not in words  # communities are below the top two levels
        assert password_problems("Mediation2026!", weak=words)
        assert password_problems("renmintiaojie2026", weak=words)
        assert password_problems("dongying123456", weak=words) == []
        app.config["PASSWORD_WEAK_WORDS"] = ("dongying",)
        assert password_problems("dongying123456", weak=weak_words())
    auth.logout()
    assert auth.login("mediator").status_code == 302  # unchanged


def test_the_last_five_passwords_cannot_be_chosen_again(demo_city, client, auth):
    auth.login("mediator")
    chosen = [DEMO_PASSWORD, "Huanghe-Riverbank-71", "Huanghe-Riverbank-72",
              "Huanghe-Riverbank-73", "Huanghe-Riverbank-74"]
    current = DEMO_PASSWORD
    for new in chosen[1:]:
        assert auth.post("/account/password", {"current_password": current, "password": new,
                                               "confirm": new}).status_code == 302, new
        current = new
    for old in chosen[:-1]:
        response = auth.post("/account/password", {"current_password": current,
                                                   "password": old, "confirm": old})
        assert response.status_code == 200, old
        assert "该密码最近使用过" in response.get_data(as_text=True)
    # A sixth password pushes the first one out of the five remembered.
    assert auth.post("/account/password", {"current_password": current,
                                           "password": NEW_PASSWORD,
                                           "confirm": NEW_PASSWORD}).status_code == 302
    assert auth.post("/account/password", {"current_password": NEW_PASSWORD,
                                           "password": DEMO_PASSWORD,
                                           "confirm": DEMO_PASSWORD}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PasswordHistory).where(
        PasswordHistory.user_id == _user("mediator").id)) == 5


def test_password_policy_rules(app):
    with app.test_request_context():
        assert password_problems("Huanghe-Riverbank-77") == []
        assert password_problems("abc")  # too short
        assert password_problems("qwertyuiop12")  # keyboard row
        assert password_problems("123456789012")
        assert password_problems("zhangsan-Secure-2026", user_inputs=["zhangsan"])


def test_disabled_account_session_is_rejected(demo_city, app, client, auth):
    auth.login("gridworker")
    assert client.get("/account").status_code == 200
    user = _user("gridworker")
    user.active = False
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_idle_timeout(demo_city, app, client, auth):
    auth.login("gridworker")
    with client.session_transaction() as session:
        session["seen"] -= app.config["SESSION_IDLE_TIMEOUT"].total_seconds() + 5
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/account").status_code == 302
    # The login is over on the server too: a copy of the cookie taken before does not
    # bring it back, however fresh its "seen".
    ended = db.session.scalar(select(UserSession).where(
        UserSession.user_id == _user("gridworker").id))
    assert ended.revoked_reason == "idle" and ended.revoked_at is not None


def test_a_copied_cookie_is_dead_after_the_idle_logout(demo_city, app, client, auth):
    auth.login("gridworker")
    with client.session_transaction() as session:
        copy = dict(session)
        session["seen"] -= app.config["SESSION_IDLE_TIMEOUT"].total_seconds() + 5
    assert client.get("/account").status_code == 302  # logged out for inactivity
    with client.session_transaction() as session:
        session.update(copy)  # the copy, as if replayed at once
    response = client.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_absolute_timeout(demo_city, app, client, auth):
    auth.login("gridworker")
    row = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
    row.created_at = utcnow() - app.config["SESSION_ABSOLUTE_TIMEOUT"] - timedelta(minutes=1)
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_session_cookie_flags(demo_city, app, client, auth):
    response = auth.login("admin")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # testing runs over plain http


def test_open_redirect_tricks_are_refused(demo_city, client, auth):
    for target in ("/\t/evil.example", "/\\evil.example", "https://evil.example/",
                   "/%0A/evil", "//evil.example"):
        response = auth.login("mediator", next=target)
        assert response.headers["Location"] in ("/", "/%0A/evil"), target
        auth.logout()
        response = auth.post("/language", {"lang": "en", "next": target}, form_url="/login")
        assert response.headers["Location"] in ("/", "/%0A/evil"), target


def test_login_rate_limit_per_address(app_factory):
    # The counters are in the app's database, new for each test: nothing to reset.
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        auth = Auth(app.test_client())
        codes = [auth.login("nobody", "Whatever-password-1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_guessing_second_factor_codes_counts_against_the_login_limit(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="4 per minute")
    with app.app_context():
        demo.seed()
        db.session.commit()
    auth = Auth(app.test_client())
    auth.login("admin")  # the password, the enrolment: two of the four
    auth.logout()
    # The password again and a wrong code: the third and the fourth. The next is refused.
    response = auth.login("admin", code="000000")
    assert response.status_code == 200 and "验证码不正确" in response.get_data(as_text=True)
    assert auth.post("/login/code", {"code": "111111"}).status_code == 429


def test_secure_cookie_in_production(monkeypatch, app_factory):
    from mediation.users import operations as user_ops
    from mediation.users.models import Role

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "Vb4mVOLk0x8l8r2ZqgXz7mYp3m3QqzGJ1uE3aVxQe7c=")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    app = app_factory("production")
    with app.app_context():  # one account is enough (the demo city took 45 s to seed)
        user_ops.create_user(None, username="admin", full_name="赵立新", role=Role.ADMIN,
                             password=DEMO_PASSWORD, must_change_password=False)
        db.session.commit()
    # Outside the test's app context, as a server answers: production counts logins.
    response = Auth(app.test_client()).login("admin")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
