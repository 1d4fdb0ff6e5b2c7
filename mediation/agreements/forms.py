"""Forms for drafting, issuing, signing and confirming agreements, and for verifying one."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from mediation.agreements.models import ConfirmationResult, Liability, SignMethod
from mediation.cases.forms import MultiCheckboxField
from mediation.cases.models import Gender
from mediation.core.forms import check_phone, enum_choices, options
from mediation.core.i18n import lazy_gettext as _l


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class DraftForm(FlaskForm):
    """The agreement's text; one responsibility box per party is added by ``draft_form``."""

    version = HiddenField()
    facts = TextAreaField(_l("Main facts of the dispute"),
                          validators=[Optional(), Length(max=20000)], render_kw={"rows": 8})
    disputed_matters = TextAreaField(_l("Disputed matters"),
                                     validators=[Optional(), Length(max=10000)],
                                     render_kw={"rows": 3})
    copies = IntegerField(_l("Number of copies"),
                          validators=[DataRequired(), NumberRange(min=2, max=50)],
                          description=_l("One for each party and one for the committee."))
    mediator_id = SelectField(_l("Mediator who signs"), coerce=_optional_int)
    recorder_name = StringField(_l("Recorder"), validators=[Optional(), Length(max=60)])
    inviting_court_id = SelectField(_l("Court that invited the mediation"),
                                    coerce=_optional_int,
                                    description=_l("Only for disputes the court referred "
                                                   "before filing: that court confirms."))
    concerns_status = BooleanField(_l("The agreement confirms or dissolves a status "
                                      "relationship (marriage, parent–child, adoption)"))
    determines_ownership = BooleanField(_l("The agreement determines who owns property or "
                                           "intellectual property"))


def draft_form(agreement, mediators, courts, **kwargs) -> DraftForm:
    fields = {f"responsibility_{entry.party_id}": TextAreaField(
        _l("Responsibility of %(name)s", name=entry.party.name),
        validators=[Optional(), Length(max=5000)]) for entry in agreement.parties}
    form = type("AgreementDraftForm", (DraftForm,), fields)(obj=agreement, **kwargs)
    form.mediator_id.choices = options([("", "—")] + [(u.id, u.full_name) for u in mediators])
    form.inviting_court_id.choices = options([("", "—")] + [(c.id, c.name) for c in courts])
    if not form.is_submitted():
        form.version.data = agreement.lock_version
        for entry in agreement.parties:
            form[f"responsibility_{entry.party_id}"].data = entry.responsibility
    return form


class TermForm(FlaskForm):
    """A term; one share box per party (``share_<party id>``) is added by ``term_form``."""

    obligor_ids = MultiCheckboxField(_l("Obligors (who perform)"), coerce=int)
    obligee_ids = MultiCheckboxField(_l("Obligees (to whom)"), coerce=int)
    liability = RadioField(_l("Several obligors are liable"), choices=enum_choices(Liability),
                           validators=[Optional()])
    # Carries the refusals about the shares, shown with the parties' table.
    shares = HiddenField()
    content = TextAreaField(_l("What is agreed"), validators=[DataRequired(), Length(max=5000)],
                            description=_l("e.g. 乙方赔偿甲方房屋漏水造成的损失"))
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), Length(max=30)],
                         description=_l("Leave empty if nothing is paid."))
    method = StringField(_l("Method of performance"), validators=[Optional(), Length(max=120)],
                         description=_l("e.g. 银行转账、现金"))
    place = StringField(_l("Place of performance"), validators=[Optional(), Length(max=200)])
    due_on = DateField(_l("Deadline"), validators=[Optional()])
    instalments = TextAreaField(_l("Instalments"), validators=[Optional(), Length(max=2000)],
                                description=_l("One a line: date and amount, e.g. "
                                               "2026-12-31 5000"))
    on_the_spot = BooleanField(_l("Performed on the spot when the agreement is signed"))

    def share_of(self, party_id: int):
        return self[f"share_{party_id}"]

    def shares_typed(self) -> dict[int, str]:
        return {int(name.removeprefix("share_")): f.data or ""
                for name, f in self._fields.items() if name.startswith("share_")}


def term_form(agreement, term=None, **kwargs) -> TermForm:
    fields = {f"share_{entry.party_id}": StringField(
        _l("Share of %(name)s (yuan)", name=entry.party.name),
        validators=[Optional(), Length(max=30)]) for entry in agreement.parties}
    form = type("AgreementTermForm", (TermForm,), fields)(obj=term, **kwargs)
    parties = [(e.party_id, e.party.name) for e in agreement.parties]
    form.obligor_ids.choices = options(parties)
    form.obligee_ids.choices = options(parties)
    if term is not None and not form.is_submitted():
        form.obligor_ids.data = [p.id for p in term.obligors]
        form.obligee_ids.data = [p.id for p in term.obligees]
        form.liability.data = term.liability.value if term.liability else None
        for link in term.obligor_links:
            if link.share_fen and f"share_{link.party_id}" in form:
                form.share_of(link.party_id).data = link.share_yuan.replace(",", "")
    return form


class IssueForm(FlaskForm):
    version = HiddenField()


class SignatureForm(FlaskForm):
    signer = SelectField(_l("Signer"), validators=[DataRequired()])
    signed_on = DateField(_l("Date"), validators=[DataRequired()])
    method = SelectField(_l("How (parties)"), choices=enum_choices(SignMethod))


class SignedCopyForm(FlaskForm):
    file = FileField(_l("Scanned signed copy (PDF or photo)"), validators=[FileRequired()])
    completed_on = DateField(_l("Date of the last signature or the seal"),
                             validators=[DataRequired()])


class PerformanceForm(FlaskForm):
    performed_on = DateField(_l("Performed on"), validators=[DataRequired()])
    on_the_spot = BooleanField(_l("On the spot"))


class InstalmentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[DataRequired()])


class ConfirmationForm(FlaskForm):
    court_id = SelectField(_l("Court"), coerce=_optional_int)
    court_name = StringField(_l("Other court"), validators=[Optional(), Length(max=120)],
                             description=_l("If the court is not in the list."))
    filed_on = DateField(_l("Filed on"), validators=[DataRequired()])
    case_reference = StringField(_l("Court's case number"),
                                 validators=[Optional(), Length(max=80)])


class RulingForm(FlaskForm):
    result = SelectField(_l("Court's decision"), choices=options(
        (value, label) for value, label in ConfirmationResult.choices() if value != "pending"))
    ruling_number = StringField(_l("Ruling number"), validators=[Optional(), Length(max=80)])
    ruled_on = DateField(_l("Date of the ruling"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class VerifyForm(FlaskForm):
    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("Printed at the foot of the agreement, e.g. "
                                      "ABCD-EFGH-JKLM-NPQR"))


class CompareForm(FlaskForm):
    file = FileField(_l("The PDF you were given"), validators=[FileRequired()])


class PartyDetailsForm(FlaskForm):
    """The details a party's block lacks, completed inside the builder (only the missing
    ones are shown: mediation/agreements/rules.py, missing_fields)."""

    gender = SelectField(_l("Gender"), validators=[Optional()])
    ethnicity = StringField(_l("Ethnicity"), validators=[Optional(), Length(max=20)])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=60)])
    phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=20),
                                                         check_phone],
                        render_kw={"type": "tel", "inputmode": "tel"})
    address = StringField(_l("Address or work unit"), validators=[Optional(),
                                                                  Length(max=200)])
    legal_representative = StringField(_l("Legal representative"),
                                       validators=[Optional(), Length(max=60)])
    legal_representative_title = StringField(_l("Legal representative's title"),
                                             validators=[Optional(), Length(max=60)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gender.choices = options([("", "—"), *Gender.choices()])
