"""Login, logout, password change and the account administration pages."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, is_safe_next, show_operation_error
from mediation.core.permissions import require
from mediation.extensions import db, limiter
from mediation.users import auth, operations
from mediation.users.forms import (
    ChangePasswordForm,
    LoginForm,
    NewUserForm,
    ResetPasswordForm,
    UserForm,
)
from mediation.users.models import User, UserSession
from mediation.users.roles import Role

bp = Blueprint("users", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = operations.attempt_login(form.username.data, form.password.data)
        db.session.commit()
        if result.user:
            auth.begin_browser_session(result.user)
            if result.user.must_change_password:
                return redirect(url_for("users.change_password"))
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("core.home"))
        flash(result.error, "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if ActionForm().validate_on_submit():
        operations.logout(current_user)
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
            operations.change_password(current_user, form.current_password.data,
                                       form.password.data)
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
}


@bp.post("/admin/users/<int:user_id>/<any(disable, enable, unlock):action>")
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
        flash(_("Account %(name)s updated.", name=user.username), "success")
    return redirect(url_for("users.user_detail", user_id=user.id))
