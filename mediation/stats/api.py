"""/api/v1/stats: the dashboard's figures as JSON, for the bureau's own reporting systems —
the very numbers of the page (``queries.summary``), for the token's jurisdiction or an area
within it."""

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _

from mediation.api import schemas
from mediation.api.http import PROBLEM, blueprint, caller, problem
from mediation.stats import queries
from mediation.stats.queries import Period, PeriodError

bp = blueprint("stats_api", "/stats", "The network's figures (统计) over a period, as on the "
               "statistics pages; their definitions are in the README.")


class SummaryQuery(schemas.Strict):
    from_ = schemas.day(data_key="from", metadata={
        "description": "First day of the period (local date, included). Default: the first "
                       "day of the month eleven months before `to`'s: twelve months."})
    to = schemas.day(metadata={"description": "Last day of the period (local date, "
                                              "included). Default: today. The period lies "
                                              "within 2000-01-01 to 2100-12-31 and spans "
                                              "at most five years."})
    area = schemas.text(32, metadata={
        "description": "An area's code within the token's jurisdiction (a district, street, "
                       "community or grid). Default: the whole jurisdiction."})


class SettledByLevel(ma.Schema):
    grid = ma.fields.Integer()
    community = ma.fields.Integer()
    street = ma.fields.Integer()


class StatsEscalations(ma.Schema):
    grid_to_community = ma.fields.Integer()
    community_to_street = ma.fields.Integer()
    grid_to_street = ma.fields.Integer(metadata={"description": "Straight from grid to street."})


class StatsConfirmations(ma.Schema):
    applied = ma.fields.Integer(metadata={"description": "Applications filed in the period."})
    within_30_days = ma.fields.Integer()
    pending = ma.fields.Integer()
    confirmed = ma.fields.Integer()
    dismissed = ma.fields.Integer()
    not_accepted = ma.fields.Integer()


class StatsTerms(ma.Schema):
    terms = ma.fields.Integer()
    on_time = ma.fields.Integer()
    late = ma.fields.Integer()
    overdue = ma.fields.Integer()
    not_yet_due = ma.fields.Integer()


class HandlingDays(ma.Schema):
    cases = ma.fields.Integer()
    median = ma.fields.Float(allow_none=True)
    p90 = ma.fields.Float(allow_none=True, metadata={"description": "90th percentile, "
                                                     "by nearest rank."})


class HandlingDaysByLevel(ma.Schema):
    grid = ma.fields.Nested(HandlingDays)
    community = ma.fields.Nested(HandlingDays)
    street = ma.fields.Nested(HandlingDays)


class StatsMonth(ma.Schema):
    month = ma.fields.String(metadata={"description": "YYYY-MM", "example": "2026-06"})
    received = ma.fields.Integer()
    settled = ma.fields.Integer()


class StatsCategory(ma.Schema):
    category = ma.fields.String(metadata={"description": "The category's code."})
    received = ma.fields.Integer()
    settled = ma.fields.Integer()
    failed = ma.fields.Integer()


class StatsSatisfaction(ma.Schema):
    ratings = ma.fields.Integer()
    satisfied = ma.fields.Integer()
    fairly_satisfied = ma.fields.Integer()
    unsatisfied = ma.fields.Integer()
    rate = ma.fields.Float(allow_none=True, metadata={
        "description": "Satisfied and fairly satisfied ÷ all ratings; null without ratings."})


def _share(description: str):
    return ma.fields.Float(allow_none=True, metadata={"description": description})


class StatsSummary(ma.Schema):
    """The figures of a period; shares are between 0 and 1, null when nothing to divide."""

    from_ = ma.fields.String(attribute="from", data_key="from", metadata={"format": "date"})
    to = ma.fields.String(metadata={"format": "date"})
    area = ma.fields.String(allow_none=True, metadata={
        "description": "The area's code; null: the token's whole jurisdiction."})
    received = ma.fields.Integer(metadata={"description": "Reported in the period."})
    concluded = ma.fields.Integer(metadata={"description": "Outcome recorded in the period."})
    settled = ma.fields.Integer(metadata={"description": "Settled or partly settled."})
    partly_settled = ma.fields.Integer()
    settled_by_level = ma.fields.Nested(SettledByLevel, metadata={
        "description": "Settled cases by the level handling them when settled."})
    settled_at_grid_or_community_share = _share("Of the settled, the share settled at grid "
                                                "or community level.")
    settlement_rate = _share("Settled ÷ (settled + failed).")
    failed = ma.fields.Integer()
    withdrawn = ma.fields.Integer()
    declined = ma.fields.Integer()
    referred_out = ma.fields.Integer()
    open = ma.fields.Integer(metadata={"description": "Open today, whatever the period."})
    overdue = ma.fields.Integer(metadata={"description": "Open and overdue today."})
    overdue_rate = _share("Overdue ÷ open, today.")
    escalations = ma.fields.Nested(StatsEscalations)
    handling_days = ma.fields.Nested(HandlingDaysByLevel, metadata={
        "description": "Days (elapsed time, fractional) from report to outcome of the cases "
                       "settled, partly settled or failed in the period, by the level that "
                       "concluded them."})
    by_month = ma.fields.List(ma.fields.Nested(StatsMonth))
    by_category = ma.fields.List(ma.fields.Nested(StatsCategory))
    judicial_confirmation = ma.fields.Nested(StatsConfirmations)
    terms = ma.fields.Nested(StatsTerms, metadata={
        "description": "Agreements' terms whose last day for performance is in the period."})
    satisfaction = ma.fields.Nested(StatsSatisfaction)


def _invalid(field: str, message: str):
    return problem(422, _("Some fields are not valid."),
                   errors=[{"field": field, "message": message}])


@bp.route("/summary")
class Summary(MethodView):
    @bp.arguments(SummaryQuery, location="query")
    @bp.response(200, StatsSummary)
    @bp.alt_response(401, schema=schemas.Problem, content_type=PROBLEM)
    @bp.alt_response(403, schema=schemas.Problem, content_type=PROBLEM)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, query):
        """The figures of the token's jurisdiction, or of an area within it, over a period:
        the statistics page's numbers (needs the statistics permission)."""
        user = caller()
        if not user.can("stats.view"):
            return problem(403)
        try:
            period = Period.of(query.get("from_"), query.get("to"))
        except PeriodError as error:
            return _invalid({"start": "from", "end": "to"}[error.field], error.message)
        try:
            area = queries.chosen_area(user, query.get("area"))
        except LookupError:
            return problem(404)
        return queries.summary(queries.dashboard(user, area, period))
