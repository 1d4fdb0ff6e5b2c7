"""The forms of "check my case" (查询进度), of a party's answer to a session notice and of
its rating of the service."""

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from mediation.core.forms import enum_choices
from mediation.core.i18n import lazy_gettext as _l
from mediation.portal.models import Satisfaction
from mediation.portal.operations import COMMENT_MAX, REASON_MAX
from mediation.sessions.models import Reply


class StatusForm(FlaskForm):
    case_number = StringField(_l("Case number"), validators=[DataRequired(), Length(max=40)],
                              description=_l("On your SMS or receipt, e.g. 2027-000123"),
                              render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                         "spellcheck": "false"})
    access_code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=40)],
                              description=_l("8 digits, sent to you by SMS when the case was "
                                             "registered"),
                              render_kw={"autocomplete": "off", "inputmode": "numeric",
                                         "spellcheck": "false"})


class ReplyForm(FlaskForm):
    reply = RadioField(_l("Will you come?"), choices=enum_choices(Reply),
                       validators=[DataRequired()])
    reason = TextAreaField(_l("Why, or which time would suit you"),
                           validators=[Length(max=REASON_MAX)])


class RatingForm(FlaskForm):
    satisfaction = RadioField(_l("How satisfied are you with the mediation service?"),
                              choices=enum_choices(Satisfaction),
                              validators=[DataRequired(_l("Please choose one of the three "
                                                          "answers."))])
    comment = TextAreaField(_l("Anything you want to tell us (optional)"),
                            validators=[Length(max=COMMENT_MAX)])
