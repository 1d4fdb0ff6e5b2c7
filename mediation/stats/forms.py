"""The dashboard's choice of period and area, read from the address (GET: a view one can
bookmark and share), and the form to supervise several overdue cases at once."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from mediation.cases.operations import MAX_SUPERVISED
from mediation.core.i18n import lazy_gettext as _l
from mediation.stats.queries import Period, PeriodError


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it reads, never changes anything

    start = DateField(_l("Period from"), validators=[Optional()])
    end = DateField(_l("Period to"), validators=[Optional()])
    area = StringField(_l("Area code"), validators=[Optional(), Length(max=32)])

    period: Period | None = None

    def validate(self, extra_validators=None) -> bool:
        """The dates, then the period they make (``self.period``) by the figures' own rule."""
        if not super().validate(extra_validators):
            return False
        try:
            self.period = Period.of(self.start.data, self.end.data)
        except PeriodError as error:
            getattr(self, error.field).errors.append(error.message)
            return False
        return True


class SuperviseManyForm(FlaskForm):
    cases = SelectMultipleField(_l("Cases"), choices=[], validate_choice=False,
                                validators=[DataRequired(_l("Tick the cases to supervise."))])
    message = TextAreaField(_l("Supervision notice"), validators=[DataRequired(),
                                                                  Length(max=4000)])
    respond_by = DateField(_l("Respond by"), validators=[Optional()])

    def validate_cases(self, field):
        if len(set(field.data)) > MAX_SUPERVISED:
            raise ValidationError(_l("Supervise at most %(n)d cases at once.",
                                     n=MAX_SUPERVISED))
