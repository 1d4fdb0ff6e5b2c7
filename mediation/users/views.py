"""Login, logout, password change and the account administration pages."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, is_safe_next, show_operation_error
from mediation.core.permissions import require
from mediation.core.ratelimit import limit_views
from mediation.extensions import db
from mediation.users import auth, operations, two_factor
from mediation.users.forms import (
    ChangePasswordForm,
    ConfirmPasswordForm,
    EnrolForm,
    LoginForm,
    NewUserForm,
    ResetPasswordForm,
    SecondFactorForm,
    UserForm,
)
from mediation.users.models import User, UserSession
from mediation.users.roles import Role

bp = Blueprint("users", __name__)
# Password spraying: logins per client address, on top of the per-account lockout.
# The password, code and enrolment steps share one count.
limit_views(bp, lambda: current_app.config["LOGIN_RATE_LIMIT"], "users.login",
            "users.login_code", "users.login_enrol", methods=["POST"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = operations.attempt_login(form.username.data, form.password.data)
        db.session.commit()
        target = request.args.get("next")
        target = target if is_safe_next(target) else None
        if result.second_factor:
            auth.begin_second_step(result.user, target)
            return redirect(url_for("users.login_code" if result.second_factor == "verify"
                                    else "users.login_enrol"))
        if result.user:
            auth.begin_browser_session(result.user)
            return _after_login(result.user, target)
        flash(result.error, "error")
    return render_template("auth/login.html", form=form)


def _after_login(user: User, target: str | None):
    if user.must_change_password:
        return redirect(url_for("users.change_password"))
    return redirect(target or url_for("core.home"))


def _pending_or_restart():
    """The account half-way through its login, or a redirect to start again."""
    user, target = auth.pending_login()
    if user is None:
        flash(_("Please log in again."), "warning")
        return None, None, redirect(url_for("users.login"))
    return user, target, None


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a login with two factors."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user, target, restart = _pending_or_restart()
    if restart:
        return restart
    if not user.two_factor_enabled:
        return redirect(url_for("users.login_enrol"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        result = operations.verify_second_factor(user, form.code.data)
        db.session.commit()
        if result.user:
            auth.begin_browser_session(result.user)
            return _after_login(result.user, target)
        if user.is_locked or not user.two_factor_enabled:
            auth.end_second_step()
            flash(result.error, "error")
            return redirect(url_for("users.login"))
        form.code.errors = [result.error]
    return render_template("auth/login_code.html", form=form, user=user)


@bp.route("/login/enrol", methods=["GET", "POST"])
def login_enrol():
    """A role that needs a second factor sets it up before its first login completes."""
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    user, _target, restart = _pending_or_restart()
    if restart:
        return restart
    if auth.is_enrolled_in_login():
        return render_template("auth/recovery_codes.html", codes=None, in_login=True,
                               action_form=ActionForm())
    if user.two_factor_enabled:
        return redirect(url_for("users.login_code"))
    secret = auth.enrolment_secret(user, in_login=True)
    if secret is None:  # a fresh key for each login that sets up the app
        secret = operations.start_enrolment(user)
        auth.keep_enrolment_secret(user, secret, in_login=True)
    form = EnrolForm()
    codes = _confirm_enrolment(form, user, secret)
    if codes is not None:
        auth.mark_enrolled(user)
        return render_template("auth/recovery_codes.html", codes=codes, in_login=True,
                               action_form=ActionForm())
    return render_template("auth/enrol.html", form=form, user=user, in_login=True,
                           **_enrolment_view(user, secret))


@bp.post("/login/finish")
def login_finish():
    """After the recovery codes were shown: the login that set up its second factor begins."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user, target, restart = _pending_or_restart()
    if restart:
        return restart
    if not auth.is_enrolled_in_login():
        return redirect(url_for("users.login_enrol"))
    operations.complete_login(user, note="second factor set up")
    db.session.commit()
    auth.begin_browser_session(user)
    return _after_login(user, target)


def _enrolment_view(user: User, secret: str) -> dict:
    return {"qr": two_factor.qr_data_uri(secret, user.username),
            "secret": two_factor.grouped(secret),
            "issuer": current_app.config["TWO_FACTOR_ISSUER"]}


@bp.post("/logout")
@login_required
def logout():
    if ActionForm().validate_on_submit():
        operations.logout(current_user._get_current_object())
        db.session.commit()
        auth.end_browser_session()
        flash(_("You have logged out."), "success")
    return redirect(url_for("users.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(current_user._get_current_object(),
                                       form.current_password.data, form.password.data)
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            auth.begin_browser_session(current_user._get_current_object())
            flash(_("Your password has been changed. Other logins of this account have "
                    "been ended."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form)


@bp.get("/account")
@login_required
def account():
    return render_template("users/account.html", user=current_user,
                           required=two_factor.required_for(current_user),
                           action_form=ActionForm(), password_form=ConfirmPasswordForm())


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    """Set up the authenticator app from the account page (or when a login from before
    two-factor sign-in was required must catch up)."""
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        auth.forget_enrolment_secret()
        return redirect(url_for("users.account"))
    secret = auth.enrolment_secret(user, in_login=False)
    form = EnrolForm()
    codes = _confirm_enrolment(form, user, secret) if secret is not None else None
    if codes is not None:
        auth.forget_enrolment_secret()
        return render_template("auth/recovery_codes.html", codes=codes, in_login=False)
    view = _enrolment_view(user, secret) if secret else {}
    return render_template("auth/enrol.html", form=form, user=user, in_login=False,
                           action_form=ActionForm(), **view)


@bp.post("/account/two-factor/start")
@login_required
def two_factor_start():
    if not ActionForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    try:
        secret = operations.start_enrolment(user)
    except OperationError as error:
        flash(error.message, "error")
        return redirect(url_for("users.account"))
    auth.keep_enrolment_secret(user, secret, in_login=False)  # a new key for each start
    return redirect(url_for("users.two_factor_setup"))


@bp.post("/account/two-factor/disable")
@login_required
def two_factor_disable():
    if _with_password(operations.disable_two_factor) is not None:
        flash(_("Two-factor sign-in is switched off."), "success")
    return redirect(url_for("users.account"))


@bp.post("/account/two-factor/recovery-codes")
@login_required
def recovery_codes_renew():
    codes = _with_password(operations.renew_recovery_codes)
    if codes is not None:
        return render_template("auth/recovery_codes.html", codes=codes, in_login=False)
    return redirect(url_for("users.account"))


def _confirm_enrolment(form: EnrolForm, user: User, secret: str) -> list[str] | None:
    """The recovery codes once the form's first code confirms ``secret``; else None, with
    the refusal on the form."""
    if not form.validate_on_submit():
        return None
    try:
        codes = operations.confirm_enrolment(user, secret, form.code.data)
    except OperationError as error:
        db.session.rollback()
        show_operation_error(form, error)
        return None
    db.session.commit()
    return codes


def _with_password(operation):
    """``operation(user, password)`` for the logged-in user once the password form checks
    out, committed: its result (True when it returns nothing), or None, the refusal
    flashed."""
    form = ConfirmPasswordForm()
    if not form.validate_on_submit():
        return None
    try:
        result = operation(current_user._get_current_object(), form.password.data)
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None
    db.session.commit()
    return True if result is None else result


# ---- administration -------------------------------------------------------------------

def _get_user(user_id: int) -> User:
    return db.get_or_404(User, user_id)


@bp.get("/admin/users")
@require("users.view")
def user_list():
    query = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.active.desc(), User.role, User.username)
    if query:
        stmt = stmt.where(or_(User.username.icontains(query, autoescape=True),
                              User.full_name.icontains(query, autoescape=True)))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    page = db.paginate(stmt, per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("users/list.html", page=page, q=query, role=role, roles=list(Role))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@require("users.manage")
def user_new():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = operations.create_user(
                current_user, username=form.username.data, full_name=form.full_name.data,
                role=Role(form.role.data), password=form.password.data, phone=form.phone.data,
                email=form.email.data, areas=form.selected_areas,
                committees=form.selected_committees,
                must_change_password=form.must_change_password.data,
            )
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("users.user_detail", user_id=user.id))
    return render_template("users/form.html", form=form, user=None)


@bp.get("/admin/users/<int:user_id>")
@require("users.view")
def user_detail(user_id: int):
    user = _get_user(user_id)
    sessions = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id)
        .order_by(UserSession.created_at.desc()).limit(10)
    ).all()
    return render_template("users/detail.html", user=user, sessions=sessions,
                           two_factor_required=two_factor.required_for(user),
                           action_form=ActionForm())


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@require("users.manage")
def user_edit(user_id: int):
    user = _get_user(user_id)
    form = UserForm(obj=user, editing=True)
    if request.method == "GET":
        form.role.data = user.role.value
        form.area_codes.data = " ".join(a.code for a in user.areas)
        form.committee_names.data = " ".join(c.short_name for c in user.committees)
    if form.validate_on_submit():
        try:
            operations.update_user(
                current_user, user, full_name=form.full_name.data, role=Role(form.role.data),
                phone=form.phone.data, email=form.email.data, areas=form.selected_areas,
                committees=form.selected_committees,
            )
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("users.user_detail", user_id=user.id))
    return render_template("users/form.html", form=form, user=user)


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@require("users.manage")
def user_password(user_id: int):
    user = _get_user(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            operations.reset_password(current_user, user, form.password.data)
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("A temporary password is set for %(name)s; they must change it when they "
                    "next log in.", name=user.username), "success")
            return redirect(url_for("users.user_detail", user_id=user.id))
    return render_template("users/password.html", form=form, user=user)


_STATE_ACTIONS = {
    "disable": lambda by, user: operations.set_active(by, user, False),
    "enable": lambda by, user: operations.set_active(by, user, True),
    "unlock": operations.unlock,
    "reset-two-factor": operations.reset_two_factor,
}


@bp.post("/admin/users/<int:user_id>/<any(disable, enable, unlock, 'reset-two-factor'):action>")
@require("users.manage")
def user_state(user_id: int, action: str):
    user = _get_user(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        _STATE_ACTIONS[action](current_user, user)
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if action == "reset-two-factor":
            flash(_("The second factor of %(name)s is reset: their logins have ended, and they "
                    "set it up again when they next log in.", name=user.username), "success")
        else:
            flash(_("Account %(name)s updated.", name=user.username), "success")
    return redirect(url_for("users.user_detail", user_id=user.id))
