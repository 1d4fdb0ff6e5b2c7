"""Two-factor sign-in: the password alone opens nothing for the roles that need a code."""

import pyotp
import pytest
from conftest import DEMO_PASSWORD, Auth, csrf_from
from sqlalchemy import func, select
from two_factor_helpers import Device, recovery_codes_from, secret_from

from mediation.core.audit import AuditEntry
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.users import operations
from mediation.users.models import RecoveryCode, User, UserSession
from mediation.users.two_factor import current_step

# Every page kind a logged-in administrator reaches, and the API.
PAGES = ["/cases/", "/admin/users", "/areas/", "/admin/audit", "/account",
         "/admin/api-tokens/", "/account/two-factor"]


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _actions(username: str | None = None) -> list[str]:
    stmt = select(AuditEntry.action).order_by(AuditEntry.id)
    if username:
        stmt = stmt.where(AuditEntry.object_type == "User",
                          AuditEntry.object_id == str(_user(username).id))
    return list(db.session.scalars(stmt))


def _live_sessions(username: str) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == _user(username).id, UserSession.revoked_at.is_(None)))


def _password_step(client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/login", data={"csrf_token": Auth(client).token(),
                                       "username": username, "password": password})


def _refused_everywhere(client) -> None:
    """The cookie of a login half-way through opens no page: each sends to the login."""
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/login"), url
    # "/" is the residents' front page for anyone not logged in, never the workbench.
    assert 'href="/report"' in client.get("/").get_data(as_text=True)
    with client.session_transaction() as session:
        assert "pending_login" in session and "_user_id" not in session


def _wrong_code(device: Device) -> str:
    """Six digits that are no code the server would take now."""
    totp = pyotp.TOTP(device.secret)
    taken = {totp.generate_otp(current_step() + d) for d in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in taken)


@pytest.fixture
def enrolled_admin(demo_city, auth) -> Device:
    """The administrator, who set up the app at a first login and logged out."""
    assert auth.login("admin").status_code == 302
    auth.logout()
    return auth.devices["admin"]


def test_the_administrators_password_alone_opens_no_page_and_no_api(enrolled_admin, app):
    attacker = app.test_client()
    sessions = _live_sessions("admin")
    response = _password_step(attacker, "admin")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    page = attacker.get("/login/code").get_data(as_text=True)
    assert "双因素登录" in page and 'autocomplete="one-time-code"' in page
    _refused_everywhere(attacker)
    assert _live_sessions("admin") == sessions  # no login session was opened
    assert _actions()[-1] != "login"


def test_a_coordinator_enrols_before_reaching_any_page(demo_city, app, client, auth):
    response = _password_step(client, "coordinator")
    assert response.headers["Location"] == "/login/enrol"
    _refused_everywhere(client)
    page = client.get("/login/enrol").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, allowed by the CSP's img-src
    secret = secret_from(page)
    assert len(secret) == 32
    stored = _user("coordinator")  # the key belongs to this login, not yet to the account
    assert stored.totp_secret_encrypted is None and stored.two_factor_enabled is False
    with client.session_transaction() as session:
        assert session["pending_login"]["secret"] and secret not in str(dict(session))
    assert secret_from(client.get("/login/enrol").get_data(as_text=True)) == secret

    wrong = client.post("/login/enrol", data={"csrf_token": csrf_from(page), "code": "123"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    shown = client.post("/login/enrol", data={"csrf_token": csrf_from(page), "code": code})
    html = shown.get_data(as_text=True)
    codes = recovery_codes_from(html)
    assert len(codes) == 10 and len(set(codes)) == 10
    _refused_everywhere(client)  # not logged in until the codes are acknowledged
    # The codes are shown once: only their hashes are kept.
    hashes = set(db.session.scalars(select(RecoveryCode.code_hash)))
    assert len(hashes) == 10 and not hashes & set(codes)
    again = client.get("/login/enrol").get_data(as_text=True)
    assert "不再显示" in again and not any(c in again for c in codes)

    finished = client.post("/login/finish", data={"csrf_token": csrf_from(html)})
    assert finished.status_code == 302 and finished.headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    assert _user("coordinator").two_factor_enabled
    assert _actions("coordinator")[-2:] == ["two_factor.enrol", "login"]


def test_the_enrolment_cookie_finishes_one_login_only(demo_city, app, client):
    _password_step(client, "coordinator")
    page = client.get("/login/enrol").get_data(as_text=True)
    html = client.post("/login/enrol", data={
        "csrf_token": csrf_from(page),
        "code": pyotp.TOTP(secret_from(page)).now()}).get_data(as_text=True)
    copy = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert client.post("/login/finish", data={"csrf_token": csrf_from(html)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], copy)
    response = replay.post("/login/finish", data={"csrf_token": csrf_from(html)})
    assert response.headers["Location"] == "/login"
    assert replay.get("/account").status_code == 302
    assert _live_sessions("coordinator") == 1


def test_wrong_and_replayed_codes_are_refused_and_counted(enrolled_admin, app, auth):
    used = pyotp.TOTP(enrolled_admin.secret).generate_otp(enrolled_admin.last_step)
    for code in (used, _wrong_code(enrolled_admin)):
        response = auth.login("admin", code=code)
        assert response.status_code == 200, code
        assert "验证码不正确，或已经用过" in response.get_data(as_text=True)
        assert auth.client.get("/account").status_code == 302
    assert _user("admin").failed_logins == 2
    assert _actions("admin")[-1] == "login_failed"
    assert auth.login("admin").status_code == 302  # the app's next code
    assert _user("admin").failed_logins == 0


def test_wrong_codes_lock_the_account(enrolled_admin, app, auth):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        response = auth.login("admin", code=_wrong_code(enrolled_admin))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert _user("admin").is_locked and "account_locked" in _actions("admin")
    response = auth.login("admin")  # the right password and code, while locked
    assert response.status_code == 200 and "已被锁定" in response.get_data(as_text=True)
    assert auth.client.get("/account").status_code == 302


def test_a_recovery_code_opens_one_login(enrolled_admin, app, auth):
    code = enrolled_admin.recovery_codes[3]
    response = auth.login("admin", code=code.upper().replace("-", " "))
    assert response.status_code == 302 and auth.client.get("/account").status_code == 200
    assert "two_factor.recovery_code_used" in _actions("admin")
    assert _user("admin").unused_recovery_codes == 9
    auth.logout()
    assert auth.login("admin", code=code).status_code == 200  # used up
    assert auth.client.get("/account").status_code == 302


def test_the_second_step_expires(enrolled_admin, app, client):
    _password_step(client, "admin")
    with client.session_transaction() as session:
        pending = session["pending_login"]
        pending["at"] -= app.config["LOGIN_SECOND_STEP_TIMEOUT"].total_seconds() + 1
        session["pending_login"] = pending
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_a_mediator_may_choose_two_factor_sign_in(demo_city, app, client, auth):
    assert auth.login("mediator").headers["Location"] == "/"  # not required for mediators
    assert "未开启" in client.get("/account").get_data(as_text=True)
    auth.post("/account/two-factor/start", form_url="/account")
    page = client.get("/account/two-factor").get_data(as_text=True)
    device = Device(secret_from(page))
    wrong = auth.post("/account/two-factor", {"code": _wrong_code(device)})
    assert wrong.status_code == 200 and not _user("mediator").two_factor_enabled
    shown = auth.post("/account/two-factor", {"code": device.next_code()})
    device.recovery_codes = recovery_codes_from(shown.get_data(as_text=True))
    assert _user("mediator").two_factor_enabled and "two_factor.enrol" in _actions("mediator")
    auth.devices["mediator"] = device
    auth.logout()

    response = auth.login("mediator", code=_wrong_code(device))
    assert response.status_code == 200 and client.get("/account").status_code == 302
    assert auth.login("mediator").headers["Location"] == "/"
    response = auth.post("/account/two-factor/disable", {"password": DEMO_PASSWORD},
                         form_url="/account")
    assert response.status_code == 302 and not _user("mediator").two_factor_enabled
    assert _actions("mediator")[-1] == "two_factor.disable"
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
    auth.logout()
    assert auth.login("mediator").headers["Location"] == "/"  # the password alone again


def test_a_coordinator_cannot_switch_it_off(demo_city, client, auth):
    auth.login("coordinator")
    page = client.get("/account").get_data(as_text=True)
    assert "关闭双因素登录" not in page and "不能关闭" in page
    response = auth.post("/account/two-factor/disable", {"password": DEMO_PASSWORD},
                         form_url="/account", follow_redirects=True)
    assert "不能关闭" in response.get_data(as_text=True)
    assert _user("coordinator").two_factor_enabled


def test_new_recovery_codes_replace_the_old(enrolled_admin, client, auth):
    auth.login("admin")
    old = enrolled_admin.recovery_codes[0]
    response = auth.post("/account/two-factor/recovery-codes", {"password": DEMO_PASSWORD},
                         form_url="/account")
    new = recovery_codes_from(response.get_data(as_text=True))
    assert len(new) == 10 and old not in new
    assert _actions("admin")[-1] == "two_factor.recovery_codes_renewed"
    auth.logout()
    assert auth.login("admin", code=old).status_code == 200
    assert auth.login("admin", code=new[0]).status_code == 302


def test_a_login_from_before_must_enrol_first(demo_city, app, client, auth):
    """A coordinator logged in while the role did not need a code is sent to set it up."""
    app.config["TWO_FACTOR_ROLES"] = ("admin",)
    assert auth.login("coordinator").headers["Location"] == "/"
    app.config["TWO_FACTOR_ROLES"] = ("admin", "coordinator")
    for url in ("/", "/cases/", "/account"):
        response = client.get(url)
        assert response.headers["Location"] == "/account/two-factor", url
    auth.post("/account/two-factor/start", form_url="/account/two-factor")
    page = client.get("/account/two-factor").get_data(as_text=True)
    auth.post("/account/two-factor", {"code": pyotp.TOTP(secret_from(page)).now()})
    assert client.get("/account").status_code == 200


def test_a_key_seen_before_the_owner_enrols_is_worth_nothing(demo_city, app, client, auth):
    """Someone with only the password opens the enrolment page, reads the key and leaves;
    the owner's own first login sets up a different key, and the first one opens nothing."""
    attacker = app.test_client()
    _password_step(attacker, "coordinator")
    page = attacker.get("/login/enrol").get_data(as_text=True)
    seen = secret_from(page)
    assert _user("coordinator").totp_secret_encrypted is None

    assert auth.login("coordinator").headers["Location"] == "/"  # the owner enrols
    assert auth.devices["coordinator"].secret != seen and client.get("/account").status_code == 200

    # The key seen can neither be confirmed now nor give a code at a login.
    response = attacker.post("/login/enrol", data={"csrf_token": csrf_from(page),
                                                   "code": pyotp.TOTP(seen).now()})
    assert response.headers["Location"] == "/login/code"
    for step in range(current_step() - 1, current_step() + 2):
        response = attacker.post("/login/code", data={
            "csrf_token": Auth(attacker).token("/login/code"),
            "code": pyotp.TOTP(seen).generate_otp(step)})
        assert response.status_code == 200 and "验证码不正确" in response.get_data(as_text=True)
        assert attacker.get("/account").status_code == 302
    assert _user("coordinator").failed_logins == 3
    auth.logout()
    assert auth.login("coordinator").headers["Location"] == "/"  # the owner's app still works


def test_an_enrolment_confirmed_elsewhere_is_not_replaced(demo_city, app, client, auth):
    """Two browsers of one account set up the app at once: the first confirmed stands."""
    auth.login("mediator")
    other = Auth(app.test_client())
    other.login("mediator")
    auth.post("/account/two-factor/start", form_url="/account")
    other.post("/account/two-factor/start", form_url="/account")
    first = Device(secret_from(client.get("/account/two-factor").get_data(as_text=True)))
    second = secret_from(other.client.get("/account/two-factor").get_data(as_text=True))
    assert first.secret != second
    auth.post("/account/two-factor", {"code": first.next_code()})
    assert _user("mediator").two_factor_enabled
    with app.test_request_context():
        user = _user("mediator")
        with pytest.raises(OperationError):
            operations.confirm_enrolment(user, second, pyotp.TOTP(second).now())
    db.session.rollback()
    assert other.client.get("/account/two-factor").headers["Location"] == "/account"
    auth.devices["mediator"] = first
    auth.logout()
    assert auth.login("mediator").headers["Location"] == "/"  # the first key's code


def test_a_password_change_due_comes_before_the_second_factor(demo_city, app, client, auth):
    """A login from before the role needed a code, whose password must also change: first
    the password, then the second factor, with no loop between the two pages."""
    app.config["TWO_FACTOR_ROLES"] = ("admin",)
    assert auth.login("coordinator").headers["Location"] == "/"
    app.config["TWO_FACTOR_ROLES"] = ("admin", "coordinator")
    _user("coordinator").must_change_password = True
    db.session.commit()
    assert client.get("/").headers["Location"] == "/account/password"
    assert client.get("/account/password").status_code == 200
    response = auth.post("/account/password", {
        "current_password": DEMO_PASSWORD, "password": "Fresh-harbour-lantern-42",
        "confirm": "Fresh-harbour-lantern-42"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert not _user("coordinator").must_change_password
    assert client.get("/").headers["Location"] == "/account/two-factor"
    assert client.get("/account/two-factor").status_code == 200
