"""Everything a page can change, the API can change: every page route that takes a POST
is mapped to the API operation that does the same (the same operation-layer function), or
is a deliberate exception with its reason. A new page action without either fails here."""

import re

import pytest

from mediation.api import cases as cases_api
from mediation.cases import views as case_views

ADMIN = ("Administration of the system itself (accounts, the area tree, rules, calendars, "
         "tokens, webhooks): an administrator's pages behind the second factor, not offered "
         "to API tokens, which act for an account's casework")
ACCOUNT = "A person's own sign-in, second factor or interface preference: no token's business"

# Page endpoint → the API operations (endpoint, method) that do the same.
PAGE_TO_API = {
    "cases.new": [("cases_api.Cases", "POST")],
    # The quick report is the intake form cut short; its photos are attachments.
    "cases.quick_report": [("cases_api.Cases", "POST"), ("cases_api.Attachments", "POST")],
    "cases.edit": [("cases_api.edit_case", "PATCH")],
    "cases.party_form": [("cases_api.Parties", "POST"), ("cases_api.edit_party", "PUT")],
    "cases.reveal": [("cases_api.reveal_id_number", "POST")],
    "cases.reveal_phone": [("cases_api.reveal_phone", "POST")],
    "cases.decide": [("proposals_api.decide_proposal", "POST")],
    "cases.respond": [("supervision_api.respond_supervision", "POST")],
    "cases.help_response": [("help_api.record_help_response", "POST")],
    "portal.renew_code": [("cases_api.renew_access_code", "POST")],
    "stats.supervise": [("supervision_api.supervise_many", "POST")],
    "sessions.new": [("cases_api.schedule", "POST"), ("cases_api.free_slots", "POST")],
    "sessions.move": [("sessions_api.move", "POST")],
    "sessions.cancel": [("sessions_api.cancel", "POST")],
    "sessions.attendance": [("sessions_api.attendance", "POST")],
    "sessions.minutes": [("sessions_api.SessionMinutes", "PUT")],
    "sessions.duty": [("places_api.Duties", "POST")],
    "sessions.duty_delete": [("places_api.remove_duty", "DELETE")],
    "agreements.start": [("cases_api.create_draft", "POST")],
    "agreements.save_draft": [("agreements_api.AgreementById", "PATCH")],
    "agreements.term": [("agreements_api.add_term", "POST"), ("agreements_api.TermById", "PUT")],
    "agreements.complete_party": [("agreements_api.complete_party", "POST")],
    "agreements.sign": [("agreements_api.sign", "POST")],
    "agreements.signed_copy": [("agreements_api.SignedCopy", "POST")],
    "agreements.performed": [("agreements_api.performed", "POST")],
    "agreements.instalment_paid": [("agreements_api.instalment_paid", "POST")],
    "agreements.application": [("agreements_api.application", "POST")],
    "agreements.file_confirmation": [("agreements_api.file_confirmation", "POST")],
    "agreements.ruling": [("agreements_api.ruling", "POST")],
    # The residents' portal has its own public API (no token: the case number and code).
    "portal.report": [("public.report", "POST")],
    "portal.status": [("public.status", "POST")],
    "portal.rate": [("public.rate", "POST")],
    "portal.reply": [("public.reply", "POST")],
}

# One page endpoint, several actions: action → (API endpoint, method, the API's action).
CASE_ACTIONS = {
    "take_over": ("cases_api.take_over", "POST", None),
    "accept": ("cases_api.case_action", "POST", "accept"),
    "decline": ("cases_api.case_action", "POST", "decline"),
    "start": ("cases_api.case_action", "POST", "start"),
    "settle": ("cases_api.case_action", "POST", "settle"),
    "fail": ("cases_api.case_action", "POST", "fail"),
    "withdraw": ("cases_api.case_action", "POST", "withdraw"),
    "refer": ("cases_api.case_action", "POST", "refer_out"),
    "close": ("cases_api.case_action", "POST", "close"),
    "escalate": ("cases_api.case_action", "POST", "escalate"),
    "follow_up": ("cases_api.FollowUps", "POST", None),
    "refusal": ("cases_api.record_refusal", "POST", None),
    "request_escalation": ("cases_api.request_escalation", "POST", None),
    "supervise": ("cases_api.SupervisionNotices", "POST", None),
    "help": ("cases_api.HelpRequests", "POST", None),
    "assign": ("cases_api.Assignments", "POST", None),
    "opinion": ("cases_api.add_opinion", "POST", None),
    "note": ("cases_api.add_note", "POST", None),
    "attachment": ("cases_api.Attachments", "POST", None),
}
AGREEMENT_LIFECYCLE = {"issue": ("agreements_api.issue", "POST"),
                       "discard": ("agreements_api.discard", "POST"),
                       "correct": ("agreements_api.correct", "POST")}
TERM_ACTIONS = {"delete": ("agreements_api.TermById", "DELETE"),
                "up": ("agreements_api.move_term", "POST"),
                "down": ("agreements_api.move_term", "POST")}
SEVERAL = {"cases.act": CASE_ACTIONS, "agreements.lifecycle": AGREEMENT_LIFECYCLE,
           "agreements.term_action": TERM_ACTIONS}

# Deliberate exceptions, each with its reason.
EXCEPTIONS = {
    "users.login": ACCOUNT, "users.login_code": ACCOUNT, "users.login_enrol": ACCOUNT,
    "users.login_finish": ACCOUNT, "users.logout": ACCOUNT,
    "users.change_password": ACCOUNT, "users.two_factor_setup": ACCOUNT,
    "users.two_factor_start": ACCOUNT, "users.two_factor_disable": ACCOUNT,
    "users.recovery_codes_renew": ACCOUNT, "core.set_language": ACCOUNT,
    "portal.type_size": "A resident's reading preference on the portal pages",
    "portal.leave": "Ends a resident's portal session (a cookie); the public API keeps none",
    "agreements.verify": "The public verification form; GET /api/v1/public/agreements/{code} "
                         "answers the same",
    "agreements.check": "A member of the public uploads a PDF to compare with the issued one; "
                        "GET /api/v1/public/agreements/{code} gives its SHA-256 to compare",
    **{endpoint: ADMIN for endpoint in (
        "users.user_new", "users.user_edit", "users.user_password", "users.user_state",
        "settings.calendar", "settings.calendar_delete", "settings.calendar_complete",
        "settings.category", "settings.levels",
        "areas.area_new", "areas.area_edit", "areas.area_delete", "areas.committee_form",
        "areas.centre_form", "areas.room_form", "areas.court_form",
        "api_admin.index", "api_admin.revoke",
        "webhooks.index", "webhooks.subscriber", "webhooks.delete", "webhooks.pause",
        "webhooks.resume", "webhooks.secret")},
}

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def rules(app):
    return list(app.url_map.iter_rules())


def _methods(rules, endpoint: str) -> set[str]:
    return {m for rule in rules if rule.endpoint == endpoint for m in rule.methods or ()}


def _page_endpoints(rules) -> set[str]:
    return {rule.endpoint for rule in rules
            if not rule.rule.startswith("/api/") and (rule.methods or set()) & CHANGING}


def test_every_page_route_that_changes_state_has_an_api_operation_or_a_reason(rules):
    unmapped = sorted(_page_endpoints(rules) - set(PAGE_TO_API) - set(SEVERAL) - set(EXCEPTIONS))
    assert unmapped == [], ("page routes that change state with no API operation and no "
                            f"reason in EXCEPTIONS: {unmapped}")
    stale = sorted((set(PAGE_TO_API) | set(SEVERAL) | set(EXCEPTIONS)) - _page_endpoints(rules))
    assert stale == [], f"the table names page routes that no longer take a POST: {stale}"


def test_each_mapped_api_operation_exists_with_its_method(rules):
    wanted = [(page, endpoint, method) for page, ops in PAGE_TO_API.items()
              for endpoint, method in ops]
    wanted += [(f"{page}/{action}", op[0], op[1]) for page, actions in SEVERAL.items()
               for action, op in actions.items()]
    missing = [(page, endpoint, method) for page, endpoint, method in wanted
               if method not in _methods(rules, endpoint)]
    assert missing == []
    assert all(endpoint.split(".")[0].endswith("_api") or endpoint.startswith("public.")
               for _page, endpoint, _method in wanted)


def test_every_action_of_the_case_page_and_the_agreement_page_is_mapped(rules):
    assert set(case_views.ACTIONS) == set(CASE_ACTIONS)
    named = [api_action for _e, _m, api_action in CASE_ACTIONS.values() if api_action]
    assert set(named) <= set(cases_api.ACTIONS)
    for endpoint, table in (("agreements.lifecycle", AGREEMENT_LIFECYCLE),
                            ("agreements.term_action", TERM_ACTIONS)):
        rule = next(r for r in rules if r.endpoint == endpoint)
        choices = set(re.search(r"<any\(([^)]*)\)", rule.rule).group(1)
                      .replace("'", "").replace(" ", "").split(","))
        assert choices == set(table), endpoint


def test_the_exceptions_are_few_and_each_gives_a_reason():
    assert all(len(reason) > 30 for reason in EXCEPTIONS.values())
    casework = [e for e, reason in EXCEPTIONS.items() if reason not in (ADMIN, ACCOUNT)]
    assert len(casework) <= 5, casework
