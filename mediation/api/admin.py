"""Administrators create and revoke API tokens; the secret is shown once."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from mediation.api import tokens
from mediation.api.models import ApiToken
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, options, show_operation_error
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.permissions import require
from mediation.extensions import db
from mediation.users.models import User

bp = Blueprint("api_admin", __name__, url_prefix="/admin/api-tokens")


class TokenForm(FlaskForm):
    user_id = SelectField(_l("Account"), coerce=int,
                          description=_l("The token acts with this account's role and "
                                         "jurisdiction."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("What uses it, e.g. 12345 hotline."))
    days = IntegerField(_l("Valid for (days)"), default=365,
                        validators=[DataRequired(), NumberRange(min=1, max=tokens.MAX_DAYS)])


@bp.route("/", methods=["GET", "POST"])
@require("users.manage")
def index():
    form = TokenForm()
    accounts = db.session.scalars(select(User).where(User.active)
                                  .order_by(User.username)).all()
    form.user_id.choices = options((u.id, f"{u.username} · {u.full_name}") for u in accounts)
    secret = None
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(current_user, db.session.get(
                User, form.user_id.data), form.name.data, form.days.data)
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Token %(name)s created. Copy it now: it is not shown again.",
                    name=token.name), "success")
    return render_template("api/tokens.html", form=form, secret=secret,
                           tokens=tokens.tokens_of(), action_form=ActionForm())


@bp.post("/<int:token_id>/revoke")
@require("users.manage")
def revoke(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    tokens.revoke_token(current_user, token)
    db.session.commit()
    flash(_("Token %(name)s revoked.", name=token.name), "success")
    return redirect(url_for("api_admin.index"))
