"""Account administration as the administrator uses it: create, re-scope, disable, reset."""

import re

import pytest
from conftest import DEMO_PASSWORD, Auth
from sqlalchemy import func, select

from mediation.core.audit import AuditEntry
from mediation.extensions import db
from mediation.users.models import User, UserSession
from mediation.users.roles import Role

STRONG = "Binhai-Kite-Orchard-93"
TEMPORARY = "Yellow-River-Tide-41"
OWN_CHOICE = "Qingfeng-Lantern-58"
COOKIE = "mediation_session"


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _live_sessions(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)))


def _revoke_reasons(user: User) -> set[str | None]:
    return set(db.session.scalars(select(UserSession.revoked_reason)
                                  .where(UserSession.user_id == user.id)))


def _field_errors(html: str, field: str) -> str | None:
    """The text of a field's error list on a re-displayed form, None if it has none."""
    match = re.search(rf'<ul class="errors" id="{field}-error"[^>]*>(.*?)</ul>', html, re.S)
    return match and match.group(1)


def _new_user_form(**overrides) -> dict:
    data = {"username": "wangfang", "full_name": "王芳", "role": "grid_worker",
            "phone": "13912345678", "email": "",
            "area_codes": "370599001002-01 370599001002-02", "committee_names": "",
            "password": STRONG, "confirm": STRONG, "must_change_password": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _edit_form(user: User, **overrides) -> dict:
    data = {"full_name": user.full_name, "role": user.role.value, "phone": user.phone or "",
            "email": user.email or "", "area_codes": " ".join(a.code for a in user.areas),
            "committee_names": " ".join(c.short_name for c in user.committees)}
    data.update(overrides)
    return data


def _second_client(app, username: str, password: str = DEMO_PASSWORD) -> Auth:
    other = Auth(app.test_client())
    assert other.login(username, password).status_code == 302
    assert other.client.get("/account").status_code == 200
    return other


def _english(auth: Auth) -> None:
    auth.post("/language", {"lang": "en", "next": "/login"}, form_url="/login")


@pytest.fixture
def admin(demo_city, auth):
    assert auth.login("admin").status_code == 302
    return auth


# ---- creating accounts -----------------------------------------------------------------

def test_admin_creates_a_grid_worker(admin):
    response = admin.post("/admin/users/new", _new_user_form())

    user = _user("wangfang")
    assert user is not None
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.role == Role.GRID_WORKER and user.full_name == "王芳"
    assert user.phone == "13912345678" and user.email is None
    assert [a.code for a in user.areas] == ["370599001002-01", "370599001002-02"]
    assert user.committees == [] and user.active and user.must_change_password
    assert user.password_hash.startswith("$argon2") and STRONG not in user.password_hash
    entry = _audit("user.create")[-1]
    assert entry.object_id == str(user.id) and entry.actor_name == "admin"
    assert entry.after["areas"] == ["370599001002-01", "370599001002-02"]
    assert entry.after["role"] == "grid_worker"
    assert "password_hash" not in entry.after and STRONG not in str(entry.after)
    # The detail page shows the new account's grids.
    html = admin.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "wangfang" in html and "清风社区第1网格" in html and "清风社区第2网格" in html


def test_admin_creates_a_mediator_with_a_committee(admin):
    response = admin.post("/admin/users/new", _new_user_form(
        username="sunli", full_name="孙丽", role="mediator", area_codes="",
        committee_names="清风社区"))

    assert response.status_code == 302
    user = _user("sunli")
    assert [c.short_name for c in user.committees] == ["清风社区"]
    assert [n.code for n in user.jurisdiction_nodes] == ["370599001002"]


def test_landline_is_stored_normalised(admin):
    admin.post("/admin/users/new", _new_user_form(phone="0546 8310001"))
    assert _user("wangfang").phone == "0546-8310001"


def test_email_is_validated_and_stored(admin):
    response = admin.post("/admin/users/new", _new_user_form(email="not-an-address"))
    assert response.status_code == 200
    assert _field_errors(response.get_data(as_text=True), "email")
    assert _user("wangfang") is None
    response = admin.post("/admin/users/new", _new_user_form(email="wangfang@example.cn"))
    assert response.status_code == 302
    assert _user("wangfang").email == "wangfang@example.cn"


# (form changes, the field that must carry the message, a value the message must name)
REFUSED = [
    ({"password": "password1234", "confirm": "password1234"}, "password", None),
    ({"password": "Kite-93-abc", "confirm": "Kite-93-abc"}, "password", None),  # 11 chars
    ({"password": "wangfang-Orchard-93", "confirm": "wangfang-Orchard-93"}, "password", None),
    ({"confirm": STRONG + "x"}, "confirm", None),
    ({"area_codes": "370599001002-01 370599009999-01"}, "area_codes", "370599009999-01"),
    ({"area_codes": "370599001"}, "area_codes", "文汇街道"),  # a grid worker on a street
    ({"role": "mediator", "area_codes": "", "committee_names": ""}, "area_codes", None),
    ({"role": "mediator", "area_codes": "", "committee_names": "不存在社区"},
     "committee_names", "不存在社区"),
    ({"role": "grid_worker", "committee_names": "文苑社区"}, "committee_names", None),
    ({"role": "coordinator", "area_codes": "370599001001-01"}, "area_codes", "文苑社区第1网格"),
    ({"username": "gridworker"}, "username", "gridworker"),
    ({"username": "GridWorker"}, "username", "GridWorker"),  # usernames ignore case
    ({"username": "王芳"}, "username", None),
    ({"phone": "12345"}, "phone", None),
    ({"phone": "1391234567"}, "phone", None),  # 10 digits
    ({"full_name": ""}, "full_name", None),
    ({"role": "superuser"}, "role", None),
]


def test_invalid_account_is_refused_with_a_message_and_nothing_saved(admin):
    users, creations = _user_count(), len(_audit("user.create"))
    for overrides, field, shown in REFUSED:
        response = admin.post("/admin/users/new", _new_user_form(**overrides))

        assert response.status_code == 200, overrides  # the form again, not a redirect
        errors = _field_errors(response.get_data(as_text=True), field)
        assert errors, f"no message on {field} for {overrides}"
        if shown:
            assert shown in errors, overrides
        assert _user_count() == users, overrides
        assert len(_audit("user.create")) == creations, overrides
        assert _user("wangfang") is None, overrides


def test_messages_for_refused_accounts_are_clear(admin):
    """In English, the messages say what is wrong (msgids, independent of the catalogs)."""
    _english(admin)
    cases = [
        ({"password": "password1234", "confirm": "password1234"}, "password",
         "commonly used passwords"),
        ({"password": "Kite-93-abc", "confirm": "Kite-93-abc"}, "password",
         "at least 12 characters"),
        ({"area_codes": "370599009999-01"}, "area_codes", "Unknown area codes: 370599009999-01"),
        ({"area_codes": "370599001"}, "area_codes",
         "the role Grid worker cannot be attached to 文汇街道（Street）"),
        ({"role": "mediator", "area_codes": ""}, "area_codes", "need a jurisdiction"),
        ({"username": "gridworker"}, "username", "The username gridworker is already taken."),
        ({"phone": "12345"}, "phone", "Not a valid phone number"),
    ]
    for overrides, field, message in cases:
        html = admin.post("/admin/users/new", _new_user_form(**overrides)).get_data(
            as_text=True)
        assert message in (_field_errors(html, field) or ""), message
    assert _user("wangfang") is None


# ---- the first login -------------------------------------------------------------------

def test_new_user_must_change_the_password_at_first_login(admin, app):
    admin.post("/admin/users/new", _new_user_form())
    newcomer = Auth(app.test_client())

    response = newcomer.login("wangfang", STRONG, follow_redirects=True)
    assert response.request.path == "/account/password"
    for url in ("/", "/areas/", "/committees/", f"/areas/{_user('wangfang').areas[0].id}"):
        response = newcomer.client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/account/password", url

    response = newcomer.post("/account/password", {
        "current_password": STRONG, "password": OWN_CHOICE, "confirm": OWN_CHOICE})
    assert response.status_code == 302

    assert _user("wangfang").must_change_password is False
    html = newcomer.client.get("/").get_data(as_text=True)
    assert "清风社区第1网格" in html
    assert newcomer.client.get("/areas/").status_code == 200
    newcomer.logout()
    assert newcomer.login("wangfang", STRONG).status_code == 200  # the old one is gone
    assert newcomer.login("wangfang", OWN_CHOICE).status_code == 302


def test_new_user_without_forced_change_goes_straight_in(admin, app):
    admin.post("/admin/users/new", _new_user_form(must_change_password=None))
    assert _user("wangfang").must_change_password is False
    newcomer = Auth(app.test_client())
    newcomer.login("wangfang", STRONG)
    assert newcomer.client.get("/account").status_code == 200


# ---- disabling -------------------------------------------------------------------------

def test_disabling_ends_the_sessions_and_blocks_login(admin, app):
    target = _user("gridworker")
    worker = _second_client(app, "gridworker")
    old_cookie = worker.client.get_cookie(COOKIE).value

    response = admin.post(f"/admin/users/{target.id}/disable",
                          form_url=f"/admin/users/{target.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{target.id}"

    assert _user("gridworker").active is False
    assert _live_sessions(target) == 0
    assert "disabled" in _revoke_reasons(target)
    response = worker.client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    audit = _audit("user.disable")[-1]
    assert audit.object_id == str(target.id) and audit.after == {"active": False}

    # The right password no longer gets in, and says why.
    _english(worker)
    response = worker.login("gridworker")
    assert response.status_code == 200
    assert "This account is disabled" in response.get_data(as_text=True)
    assert worker.client.get("/account").status_code == 302
    assert _audit("login_refused_disabled")

    # Enabled again: a fresh login works, but the old cookie stays dead.
    admin.post(f"/admin/users/{target.id}/enable", form_url=f"/admin/users/{target.id}")
    assert _user("gridworker").active is True
    assert _audit("user.enable")
    replay = app.test_client()
    replay.set_cookie(COOKIE, old_cookie)
    assert replay.get("/account").status_code == 302
    assert worker.login("gridworker").status_code == 302
    assert worker.client.get("/account").status_code == 200


def test_disabling_leaves_other_accounts_logged_in(admin, app):
    mediator = _second_client(app, "mediator")
    admin.post(f"/admin/users/{_user('gridworker').id}/disable", form_url="/")
    assert mediator.client.get("/account").status_code == 200
    assert admin.client.get("/account").status_code == 200


def test_admin_cannot_disable_themselves(admin):
    me = _user("admin")
    response = admin.post(f"/admin/users/{me.id}/disable", form_url=f"/admin/users/{me.id}")
    assert response.status_code == 302
    assert _user("admin").active is True
    assert _audit("user.disable") == []
    assert admin.client.get("/admin/users").status_code == 200  # still logged in


# ---- re-scoping ------------------------------------------------------------------------

def test_rescoping_ends_the_sessions_and_is_audited(admin, app):
    target = _user("gridworker")
    worker = _second_client(app, "gridworker")

    response = admin.post(f"/admin/users/{target.id}/edit", _edit_form(
        target, area_codes="370599001001-01 370599001001-04"))

    assert response.status_code == 302
    assert [a.code for a in _user("gridworker").areas] == ["370599001001-01",
                                                          "370599001001-04"]
    assert worker.client.get("/account").status_code == 302
    assert _live_sessions(target) == 0 and "rescoped" in _revoke_reasons(target)
    entry = _audit("user.update")[-1]
    assert entry.object_id == str(target.id) and entry.actor_name == "admin"
    assert entry.before["areas"] == ["370599001001-01", "370599001001-02", "370599001001-03"]
    assert entry.after["areas"] == ["370599001001-01", "370599001001-04"]
    # The next login sees the new jurisdiction.
    worker.login("gridworker")
    html = worker.client.get("/").get_data(as_text=True)
    assert "文苑社区第4网格" in html and "文苑社区第2网格" not in html


def test_changing_the_role_ends_the_sessions_and_is_audited(admin, app):
    target = _user("gridworker")
    worker = _second_client(app, "gridworker")

    response = admin.post(f"/admin/users/{target.id}/edit", _edit_form(
        target, role="mediator", area_codes="", committee_names="明德社区"))

    assert response.status_code == 302
    user = _user("gridworker")
    assert user.role == Role.MEDIATOR and user.areas == []
    assert [c.short_name for c in user.committees] == ["明德社区"]
    assert worker.client.get("/account").status_code == 302
    entry = _audit("user.update")[-1]
    assert (entry.before["role"], entry.after["role"]) == ("grid_worker", "mediator")
    assert (entry.before["committees"], entry.after["committees"]) == ([], ["明德社区"])


def test_editing_contact_details_keeps_the_user_logged_in(admin, app):
    target = _user("mediator")
    mediator = _second_client(app, "mediator")

    response = admin.post(f"/admin/users/{target.id}/edit",
                          _edit_form(target, phone="13800001111"))

    assert response.status_code == 302
    assert _user("mediator").phone == "13800001111"
    assert mediator.client.get("/account").status_code == 200
    entry = _audit("user.update")[-1]
    assert (entry.before["phone"], entry.after["phone"]) == (None, "13800001111")


def test_refused_rescope_changes_nothing(admin, app):
    target = _user("gridworker")
    worker = _second_client(app, "gridworker")

    response = admin.post(f"/admin/users/{target.id}/edit",
                          _edit_form(target, area_codes="370599001001"))  # a community

    assert response.status_code == 200
    assert _field_errors(response.get_data(as_text=True), "area_codes")
    assert [a.code for a in _user("gridworker").areas] == [
        "370599001001-01", "370599001001-02", "370599001001-03"]
    assert worker.client.get("/account").status_code == 200
    assert _audit("user.update") == []


def test_admin_cannot_change_their_own_role(admin):
    me = _user("admin")
    response = admin.post(f"/admin/users/{me.id}/edit", _edit_form(
        me, role="coordinator", area_codes="370599001"))

    assert response.status_code == 200
    assert _field_errors(response.get_data(as_text=True), "role")
    assert _user("admin").role == Role.ADMIN
    assert _user("admin").areas == []
    assert _audit("user.update") == []
    assert admin.client.get("/admin/users").status_code == 200


# ---- temporary passwords ---------------------------------------------------------------

def test_temporary_password_ends_sessions_and_forces_a_change(admin, app):
    target = _user("mediator")
    mediator = _second_client(app, "mediator")

    response = admin.post(f"/admin/users/{target.id}/password",
                          {"password": TEMPORARY, "confirm": TEMPORARY})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/users/{target.id}"
    assert _user("mediator").must_change_password is True
    assert mediator.client.get("/account").status_code == 302
    assert _live_sessions(target) == 0 and "password_reset" in _revoke_reasons(target)
    assert _audit("user.password_reset")[-1].object_id == str(target.id)

    mediator = Auth(app.test_client())
    assert mediator.login("mediator", DEMO_PASSWORD).status_code == 200  # old one is gone
    response = mediator.login("mediator", TEMPORARY, follow_redirects=True)
    assert response.request.path == "/account/password"
    assert mediator.client.get("/committees/").headers["Location"] == "/account/password"


def test_temporary_password_must_follow_the_policy(admin):
    target = _user("mediator")
    response = admin.post(f"/admin/users/{target.id}/password",
                          {"password": "password1234", "confirm": "password1234"})
    assert response.status_code == 200
    assert _field_errors(response.get_data(as_text=True), "password")
    assert _user("mediator").must_change_password is False
    assert _audit("user.password_reset") == []


def test_temporary_password_cannot_be_a_recent_one(admin):
    target = _user("mediator")
    response = admin.post(f"/admin/users/{target.id}/password",
                          {"password": DEMO_PASSWORD, "confirm": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "最近 5 次使用的密码" in _field_errors(response.get_data(as_text=True), "password")
    assert _audit("user.password_reset") == []


# ---- second factor ---------------------------------------------------------------------

def test_admin_resets_a_colleagues_second_factor(admin, app):
    coordinator = _second_client(app, "coordinator")  # enrols at this first login
    target = _user("coordinator")
    assert target.two_factor_enabled
    page = admin.client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "重置第二因素" in page

    response = admin.post(f"/admin/users/{target.id}/reset-two-factor",
                          form_url=f"/admin/users/{target.id}", follow_redirects=True)
    assert "已重置 coordinator 的第二因素" in response.get_data(as_text=True)
    target = _user("coordinator")
    assert not target.two_factor_enabled and target.totp_secret_encrypted is None
    assert target.unused_recovery_codes == 0
    assert coordinator.client.get("/account").status_code == 302  # that login has ended
    assert "two_factor_reset" in _revoke_reasons(target)
    entry = _audit("user.two_factor_reset")[-1]
    assert entry.object_id == str(target.id) and entry.actor_name == "admin"
    # The old app's codes open nothing: the next login sets the factor up afresh.
    again = Auth(app.test_client())
    response = again.client.post("/login", data={
        "csrf_token": again.token(), "username": "coordinator", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/login/enrol"


def test_second_factor_reset_is_for_another_administrator(admin, app):
    own = _user("admin")
    assert "重置第二因素" not in admin.client.get(f"/admin/users/{own.id}").get_data(
        as_text=True)
    response = admin.post(f"/admin/users/{own.id}/reset-two-factor",
                          form_url=f"/admin/users/{own.id}", follow_redirects=True)
    assert "不能重置自己的第二因素" in response.get_data(as_text=True)
    assert _user("admin").two_factor_enabled and _audit("user.two_factor_reset") == []
    _second_client(app, "coordinator")
    mediator = _second_client(app, "mediator")
    target = _user("coordinator")
    response = mediator.post(f"/admin/users/{target.id}/reset-two-factor", form_url="/")
    assert response.status_code == 403 and _user("coordinator").two_factor_enabled


def test_the_command_line_resets_the_last_administrators_second_factor(admin, app, runner):
    result = runner.invoke(args=["reset-two-factor", "admin"])
    assert result.exit_code == 0, result.output
    assert not _user("admin").two_factor_enabled
    assert admin.client.get("/account").status_code == 302  # that login has ended
    assert _audit("user.two_factor_reset")[-1].object_id == str(_user("admin").id)
    response = admin.client.post("/login", data={
        "csrf_token": admin.token(), "username": "admin", "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/login/enrol"
    assert runner.invoke(args=["reset-two-factor", "nobody"]).exit_code == 1


def test_account_list_and_search(admin):
    html = admin.client.get("/admin/users").get_data(as_text=True)
    for username in ("admin", "coordinator", "mediator", "gridworker", "legalaid"):
        assert f">{username}</a>" in html
    html = admin.client.get("/admin/users?q=grid").get_data(as_text=True)
    assert ">gridworker</a>" in html and ">mediator</a>" not in html
    html = admin.client.get("/admin/users?role=coordinator").get_data(as_text=True)
    assert ">coordinator</a>" in html and ">gridworker</a>" not in html

