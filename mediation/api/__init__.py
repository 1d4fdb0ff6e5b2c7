"""The JSON API (/api/v1), described by an OpenAPI document generated from the code by
flask-smorest and served at /api/v1/openapi.json."""

from http import HTTPStatus

from flask_smorest import Api

from mediation.api import schemas

PROBLEM = "application/problem+json"


class MediationApi(Api):
    """flask-smorest without its app-wide error handler: the app's own handlers answer
    problem+json under /api/ (``http.respond_to_error``) and HTML pages elsewhere."""

    ERROR_SCHEMA = schemas.Problem

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        """The shared responses (``default``, the 422 of bad arguments) as the app sends
        them: problem+json, not flask-smorest's application/json."""
        for status in HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "An error, as RFC 9457 problem details",
            "content": {PROBLEM: {"schema": self.ERROR_SCHEMA}}}, lazy=True)


api = MediationApi()


def init_app(app) -> None:
    from mediation.api import admin, agreements, case_work, cases, docs, http, sessions
    from mediation.core.views import ERROR_RESPONDERS
    from mediation.portal import api as portal_api
    from mediation.stats import api as stats_api

    app.config.setdefault("API_TITLE", "人民调解案件管理系统 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", http.PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": docs.DESCRIPTION},
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "An API token from the admin pages or "
                                      "`flask create-api-token`."}}},
        "security": [{"bearer": []}],
    })
    api.init_app(app)
    for blueprint in (cases.areas_bp, cases.bp, cases.proposals_bp, sessions.bp,
                      sessions.places_bp, agreements.bp, agreements.courts_bp, portal_api.bp):
        api.register_blueprint(blueprint)
    for blueprint in case_work.BLUEPRINTS:
        api.register_blueprint(blueprint)
    api.register_blueprint(stats_api.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(admin.bp)
    ERROR_RESPONDERS.append(http.respond_to_error)
