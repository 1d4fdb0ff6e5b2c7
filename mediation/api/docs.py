"""A readable page for the API, rendered on the server from the OpenAPI document."""

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)

DESCRIPTION = (
    "One API for the 12345 hotline, grid workers' phones and the courts, calling the same "
    "operations as the web pages. Authenticate with `Authorization: Bearer <token>`; a "
    "token acts with its account's role and jurisdiction. Errors are "
    "`application/problem+json` (RFC 9457) in the language of `Accept-Language` "
    "(Chinese by default), with the invalid fields under `errors`. Creating POSTs accept "
    "an `Idempotency-Key` header: a retry with the same key returns the first reply. "
    "Lists take `page` and `per_page` and return `items` and `total`. Bodies are JSON in "
    "UTF-8 whatever the `charset`; an optional body left out counts as `{}`. A method an "
    "address does not take answers 405 with `Allow`.")


@bp.get("/api/v1/docs")
def docs():
    """The operations, their parameters and bodies, and the shapes, from the spec itself."""
    from mediation.api import api

    spec = api.spec.to_dict()
    return render_template("api/docs.html", spec=spec)
