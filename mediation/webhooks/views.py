"""Administrators register webhook subscribers and watch their deliveries; a signing secret
is shown once, when it is made."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mediation.areas.models import AreaNode
from mediation.cases.forms import MultiCheckboxField
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, enum_choices, show_operation_error
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.pages import Page
from mediation.core.permissions import require
from mediation.extensions import db
from mediation.webhooks import delivery, operations, queries
from mediation.webhooks.models import EventType, WebhookSubscriber
from mediation.webhooks.operations import SubscriberInput

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


class SubscriberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("Who receives the events, e.g. 12345 hotline."))
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=500)],
                      description=_l("Where the events are posted, e.g. "
                                     "https://hotline.example.gov.cn/mediation/events."))
    # An unknown type is refused by the operation, with its message.
    event_types = MultiCheckboxField(
        _l("Events"), choices=enum_choices(EventType), validate_choice=False,
        validators=[DataRequired(_l("Choose the events the subscriber receives."))])
    area = StringField(_l("Area (code)"), validators=[Optional(), Length(max=32)],
                       description=_l("Only cases whose grid lies in this district, street "
                                      "or community; empty: the whole city."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.picked_area: AreaNode | None = None

    def validate_area(self, field):
        code = (field.data or "").strip()
        if code:
            self.picked_area = db.session.scalar(select(AreaNode).where(AreaNode.code == code))
            if self.picked_area is None:
                raise ValidationError(_l("No area has this code."))

    def to_input(self) -> SubscriberInput:
        return SubscriberInput(name=self.name.data, url=self.url.data,
                               event_types=list(self.event_types.data or []),
                               area=self.picked_area)


@bp.route("/", methods=["GET", "POST"])
@require("users.manage")
def index():
    form = SubscriberForm()
    if form.validate_on_submit():
        try:
            made, secret = operations.create_subscriber(current_user, form.to_input())
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Subscriber %(name)s registered. Copy its secret now: it is not shown "
                    "again.", name=made.name), "success")
            return render_template("webhooks/subscriber.html", **_detail(made), secret=secret)
    return render_template("webhooks/index.html", form=form, subscribers=queries.subscribers(),
                           policy=delivery.POLICY), 422 if form.errors else 200


def _detail(subscriber: WebhookSubscriber, form: SubscriberForm | None = None) -> dict:
    if form is None:
        form = SubscriberForm(formdata=None, obj=subscriber)
        form.event_types.data = list(subscriber.event_types)
        form.area.data = subscriber.area.code if subscriber.area else ""
    log = Page(queries.attempt_log(subscriber), request.args.get("page", 1, type=int),
               per_page=50, options=queries.LOG_LOADS)
    return {"subscriber": subscriber, "form": form, "waiting": queries.waiting(subscriber),
            "log": log, "action_form": ActionForm(), "policy": delivery.POLICY}


@bp.route("/<int:subscriber_id>", methods=["GET", "POST"])
@require("users.manage")
def subscriber(subscriber_id: int):
    found = db.get_or_404(WebhookSubscriber, subscriber_id)
    form = SubscriberForm() if request.method == "POST" else None
    if form is not None and form.validate_on_submit():
        try:
            operations.update_subscriber(current_user, found, form.to_input())
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("webhooks.subscriber", subscriber_id=found.id))
    return render_template("webhooks/subscriber.html", **_detail(found, form)), \
        422 if form is not None and form.errors else 200


def _action(subscriber_id: int, *, confirmed: bool = False) -> WebhookSubscriber:
    """The subscriber a button acts on; ``confirmed``: a step asked twice (confirm_post)."""
    found = db.get_or_404(WebhookSubscriber, subscriber_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if confirmed and request.form.get("confirmed") != "yes":
        abort(400)
    return found


@bp.post("/<int:subscriber_id>/secret")
@require("users.manage")
def secret(subscriber_id: int):
    found = _action(subscriber_id, confirmed=True)
    new = operations.new_secret(current_user, found)
    db.session.commit()
    flash(_("New secret for %(name)s. Copy it now: it is not shown again, and the old one "
            "no longer signs.", name=found.name), "success")
    return render_template("webhooks/subscriber.html", **_detail(found), secret=new)


@bp.post("/<int:subscriber_id>/pause")
@require("users.manage")
def pause(subscriber_id: int):
    found = _action(subscriber_id)
    operations.pause(current_user, found)
    db.session.commit()
    flash(_("%(name)s paused: its deliveries wait until it is resumed.", name=found.name),
          "success")
    return redirect(url_for("webhooks.subscriber", subscriber_id=found.id))


@bp.post("/<int:subscriber_id>/resume")
@require("users.manage")
def resume(subscriber_id: int):
    found = _action(subscriber_id)
    try:
        operations.resume(current_user, found)
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s resumed: its waiting deliveries go out on the next run.",
                name=found.name), "success")
    return redirect(url_for("webhooks.subscriber", subscriber_id=found.id))


@bp.post("/<int:subscriber_id>/delete")
@require("users.manage")
def delete(subscriber_id: int):
    found = _action(subscriber_id, confirmed=True)
    name = found.name
    operations.delete_subscriber(current_user, found)
    db.session.commit()
    flash(_("%(name)s removed.", name=name), "success")
    return redirect(url_for("webhooks.index"))
