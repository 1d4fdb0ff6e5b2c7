"""Large type on the residents' pages (大字), for older eyes on small phones.

A plain form that POSTs, like the language switch: the pages have no script. The choice
is kept in the session with the language, and every portal page reads it.
"""

from flask import has_request_context, redirect, request, session, url_for

from mediation.core.forms import ActionForm, is_safe_next
from mediation.portal.blueprint import bp

LARGE_TYPE = "portal_large_type"  # the session key; absent: standard type
SIZES = {"standard": False, "large": True}


@bp.post("/type-size")
def type_size():
    """Switch between standard and large type, then back to the page it was pressed on."""
    size = request.form.get("size")
    if ActionForm().validate_on_submit() and size in SIZES:
        if SIZES[size]:
            session[LARGE_TYPE] = True
        else:
            session.pop(LARGE_TYPE, None)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("core.home"), 303)


@bp.app_context_processor
def _type_size() -> dict:
    # Templates are rendered outside requests too (the PDFs of `flask seed-demo`).
    return {"large_type": has_request_context() and bool(session.get(LARGE_TYPE))}
