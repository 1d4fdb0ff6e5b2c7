"""What every API call shares: bearer tokens, problem+json errors, one commit per call, and
replies kept for retried creating POSTs (Idempotency-Key)."""

import functools
import hashlib
import json
import math
import re
from collections.abc import Callable
from datetime import timedelta

from flask import Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from mediation.api import tokens
from mediation.api.models import ApiToken, IdempotentReply
from mediation.api.schemas import MAX_ID
from mediation.core import audit
from mediation.core.db import utcnow, write_intent
from mediation.core.errors import OperationError
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.ratelimit import own_connection
from mediation.extensions import csrf, db, limiter

PROBLEM = "application/problem+json"
PREFIX = "/api/v1"
PUBLIC_PREFIX = f"{PREFIX}/public"
BODY_METHODS = {"POST", "PUT", "PATCH"}
# Row ids in paths: positive and within the databases' INTEGER, so a huge number is a 404
# rather than an overflow in the driver.
ID = f"int(min=1, max={MAX_ID})"

TITLES = {
    400: _l("Bad request"), 401: _l("Authentication required"), 403: _l("Not allowed"),
    404: _l("No such resource"), 405: _l("Method not allowed"), 409: _l("Conflict"),
    413: _l("Request too large"), 415: _l("Unsupported media type"),
    422: _l("The request could not be processed"), 429: _l("Too many requests"),
    500: _l("Server error"),
}
DETAILS = {
    401: _l("Send an API token: Authorization: Bearer <token>."),
    403: _l("The token's account may not do this."),
    404: _l("There is no such resource, or the token's account may not see it."),
    405: _l("This address does not take that method."),
    429: _l("Too many requests with this token: wait a moment and try again."),
    500: _l("The server could not finish this. Nothing was saved."),
}

# marshmallow's and webargs's English messages, in the caller's language.
FIELD_MESSAGES = [
    (re.compile(r"^Missing data for required field\.$"), _l("This field is required.")),
    (re.compile(r"^Field may not be null\.$"), _l("This field may not be empty.")),
    (re.compile(r"^Unknown field\.$"), _l("Unknown field.")),
    (re.compile(r"^Not a valid string\.$"), _l("Not a valid text.")),
    (re.compile(r"^Not a valid integer\.$"), _l("Not a valid whole number.")),
    (re.compile(r"^Not a valid boolean\.$"), _l("Not a valid true/false value.")),
    (re.compile(r"^Not a valid date\.$"), _l("Not a valid date (YYYY-MM-DD).")),
    (re.compile(r"^Not a valid (aware )?datetime\.$"),
     _l("Not a valid date and time (ISO 8601, with its time zone).")),
    (re.compile(r"^Not a valid list\.$"), _l("Not a valid list.")),
    (re.compile(r"^Invalid input type\.$"), _l("Wrong type of value.")),
    (re.compile(r"^Invalid value\.$"), _l("Invalid value.")),
    (re.compile(r"^Must be one of: (?P<choices>.*)\.$"), _l("Must be one of: %(choices)s.")),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+) and less than or equal to "
                r"(?P<max>\S+)\.$"), _l("Must be between %(min)s and %(max)s.")),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+)\.$"),
     _l("Must be at least %(min)s.")),
    (re.compile(r"^Must be less than or equal to (?P<max>\S+)\.$"),
     _l("Must be at most %(max)s.")),
    (re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"),
     _l("Length must be between %(min)s and %(max)s.")),
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"),
     _l("At least %(min)s characters.")),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"),
     _l("At most %(max)s characters.")),
    (re.compile(r"^Invalid JSON body\.$"), _l("The body is not valid JSON.")),
    (re.compile(r"^Not a web link\.$"), _l("The video link must start with https:// or http://.")),
]


def translate(message: str) -> str:
    for pattern, template in FIELD_MESSAGES:
        match = pattern.match(str(message))
        if match:
            return str(template) % match.groupdict() if match.groupdict() else str(template)
    return str(message)


def _flatten(messages, path=()) -> list[dict]:
    """webargs' {location: {field: [messages]}} as [{field, message}], in the caller's language."""
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            found += _flatten(value, path + (str(key),))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        field = ".".join(p for p in path if p not in {"json", "query", "form", "files",
                                                       "headers", "view_args", "_schema"})
        return [{"field": field or None, "message": translate(m)} for m in messages]
    if isinstance(messages, list):
        return [e for i, m in enumerate(messages) for e in _flatten(m, path + (str(i),))]
    return [{"field": ".".join(path) or None, "message": translate(str(messages))}]


def problem(status: int, detail: str | None = None, *, errors: list[dict] | None = None,
            headers: dict | None = None, **extra) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": str(TITLES.get(status, TITLES[500])),
            "status": status, "detail": str(detail or DETAILS.get(status, "")) or None}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify({k: v for k, v in body.items() if v is not None})
    response.status_code = status
    response.mimetype = PROBLEM
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def respond_to_error(error) -> Response | None:
    """For the app's error handlers: API paths get problem+json instead of an HTML page."""
    if not request.path.startswith(PREFIX):
        return None
    if not isinstance(error, HTTPException):
        db.session.rollback()
        return problem(500)
    data = getattr(error, "data", None) or {}
    errors = _flatten(data["messages"]) if "messages" in data else None
    status = error.code or 500
    if status == 422 and errors:
        return problem(422, _("Some fields are not valid."), errors=errors)
    if status == 400 and errors:  # a body that is not JSON
        return problem(400, errors[0]["message"], errors=errors)
    detail = data.get("message") or (None if status in DETAILS else error.description)
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if status == 401 else None
    return problem(status, detail, headers=headers)


# The operations name fields after the web forms; the API's bodies call some of them otherwise.
API_FIELDS = {"applicant_name": "parties", "start": "starts_at", "end": "ends_at",
              "day": "starts_at", "room": "room_id", "lead": "lead_mediator",
              "consent": "invited"}


def operation_problem(error: OperationError, status: int = 422) -> Response:
    """A refused operation; a scheduling clash carries its free ``slots``."""
    field = API_FIELDS.get(error.field, error.field)
    errors = [{"field": field, "message": str(error.message)}] if field else None
    extra = {"slots": [slot.isoformat() for slot in error.slots]} \
        if getattr(error, "slots", None) is not None else {}
    return problem(status, str(error.message), errors=errors, **extra)


# ---- authentication ---------------------------------------------------------------------

def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticate():
    """Before each call of a token-protected blueprint: the token's account is the caller.

    Cookies are never accepted here, so a page cannot be tricked into calling the API.
    """
    secret = _bearer()
    token = tokens.find_token(secret) if secret else None
    if token is None:
        return problem(401, _("The API token is missing, unknown, expired or revoked."),
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    g.api_token = token
    g._login_user = token.user  # Flask-Login's current_user for this request
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(hours=1):
        # Recorded at once (hourly), reads included: administrators judge by it whether a
        # token is still in use. The read ends first: on SQLite a read transaction cannot
        # become a write while another worker writes (it would fail at once, not wait).
        token_id = token.id
        db.session.commit()
        intent = write_intent.set(True)
        try:
            db.session.execute(update(ApiToken).where(ApiToken.id == token_id)
                               .values(last_used_at=now))
            db.session.commit()
        finally:
            write_intent.reset(intent)
    return None


def rate_limit_key() -> str:
    """Per token, else per client address. An unknown token counts as none: made-up tokens
    would each get a count of their own, never reach the limit, and each add a row."""
    secret = _bearer()
    if secret:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        # Asked on a connection of its own, before the request's session takes any lock.
        with own_connection(write=False) as connection:
            known = connection.execute(
                select(ApiToken.id).where(ApiToken.token_hash == digest)).first()
        if known is not None:
            return "token:" + digest[:32]
    return "ip:" + (request.remote_addr or "")


# Text no database stores: NUL (PostgreSQL's text refuses it) and lone surrogates (JSON's
# "\ud800" parses, but no UTF-8 encoder takes it).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Far beyond any body the API takes (an agreement's instalments are four levels down), and
# far below what would exhaust Python's recursion in the parsers and schemas.
MAX_DEPTH = 32
MAX_DIGITS = 100


class _BadBody(ValueError):
    """A body that is JSON's syntax but not what the API reads: the message says why."""


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: Python's, not RFC 8259's


def _read_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _BadBody(_("A number in the body is too large."))
    return int(digits)


def _read_float(digits: str) -> float:
    number = float(digits)
    if math.isinf(number):
        raise _BadBody(_("A number in the body is too large."))
    return number


def _depth(value) -> int:
    """How deeply lists and objects nest, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_body(data: bytes):
    """The body as JSON the way RFC 8259 has it: UTF-8 whatever the charset says, no NaN or
    Infinity, numbers and nesting within reason.  Raises ``ValueError`` with a message for
    the caller; what passes here, webargs parses without error."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadBody(_("Send the body as JSON in UTF-8.")) from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_read_int,
                           parse_float=_read_float)
    except RecursionError:
        raise _BadBody(_("The body is nested too deeply.")) from None
    except _BadBody:
        raise
    except ValueError:
        raise _BadBody(_("The body is not valid JSON.")) from None
    if _depth(value) > MAX_DEPTH:
        raise _BadBody(_("The body is nested too deeply."))
    return value


def _unstorable_fields(value, path: tuple = ()) -> list[str]:
    """The fields (dotted paths) of a parsed JSON body whose names or texts no database
    stores."""
    if isinstance(value, str):
        return [".".join(path)] if UNSTORABLE.search(value) else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            name = UNSTORABLE.sub("\ufffd", key)
            found += [".".join(path + (name,))] if name != key else []
            found += _unstorable_fields(item, path + (name,))
        return found
    if isinstance(value, list):
        return [field for index, item in enumerate(value)
                for field in _unstorable_fields(item, path + (str(index),))]
    return []


# The endpoints whose body carries a file as base64 text, a third larger than the file:
# the most each reads (a function of the app's config), in place of MAX_CONTENT_LENGTH.
BODY_LIMITS: dict[str, Callable[[], int]] = {}


def check_input():
    """Refuse, before any parser, schema or query sees them, what would otherwise be a 500:
    a body Python's json cannot take or that nests without end, and text no database
    stores (NUL, lone surrogates) in the path, the query, the Idempotency-Key or the body."""
    if request.endpoint in BODY_LIMITS:
        request.max_content_length = BODY_LIMITS[request.endpoint]()
    if "\x00" in request.path:
        return problem(404)
    message = _("Not a valid text.")
    if "\x00" in request.headers.get("Idempotency-Key", ""):
        return problem(400, message, errors=[{"field": "Idempotency-Key", "message": message}])
    fields = [key for key, values in request.args.lists()
              if "\x00" in key or any("\x00" in value for value in values)]
    data = request.get_data(cache=True) if request.method in BODY_METHODS else b""
    if data and request.is_json:
        try:
            fields += _unstorable_fields(parse_body(data))
        except _BadBody as error:
            return problem(400, str(error), errors=[{"field": None, "message": str(error)}])
    if fields:
        return problem(422, _("Some fields are not valid."),
                       errors=[{"field": field or None, "message": message}
                               for field in dict.fromkeys(fields)])
    return None


def require_json():
    """A body must be JSON: a form-encoded one would only come back as missing fields."""
    if request.method in BODY_METHODS and request.content_length \
            and not request.is_json:
        return problem(415, _("Send the body as JSON, with Content-Type: application/json."))
    return None


def blueprint(name: str, url_prefix: str, description: str, *, public: bool = False):
    """A flask-smorest blueprint under /api/v1, tokens required unless ``public``."""
    blp = Blueprint(name, __name__, url_prefix=PREFIX + url_prefix, description=description)
    csrf.exempt(blp)
    limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(blp)
    if not public:  # who is asking first: a stranger learns nothing of the body rules
        blp.before_request(authenticate)
    blp.before_request(check_input)
    blp.before_request(require_json)
    return blp


def caller():
    return g.api_token.user


# ---- one commit per call ----------------------------------------------------------------

def commit_or_problem(action, *, conflict_types=()):
    """Run an operation and commit; a refused rule is a 422 (409 for conflicts), nothing saved."""
    try:
        result = action()
        db.session.flush()
    except conflict_types as error:
        db.session.rollback()
        return None, operation_problem(error, 409)
    except OperationError as error:
        db.session.rollback()
        return None, operation_problem(error)
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        return None, problem(409, _("Someone else changed this at the same time. Nothing was "
                                    "saved: read it again and retry."))
    return result, None


def audit_call(status: int) -> None:
    """Every changing API call in the audit log, beside what its operation records."""
    if request.method not in {"GET", "HEAD", "OPTIONS"} and getattr(g, "api_token", None):
        audit.record("api.call", g.api_token, actor=g.api_token.user,
                     note=f"{request.method} {request.path} → {status}")


# ---- Idempotency-Key --------------------------------------------------------------------

def _request_hash() -> str:
    body = request.get_data(cache=True) or b""
    return hashlib.sha256(request.method.encode() + request.path.encode() + b"\0" + body) \
        .hexdigest()


def idempotent(view):
    """A creating POST: with an Idempotency-Key, a retry gets the first reply, not a second
    resource.  The key is claimed in the same transaction as the creation."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return _finish(view(*args, **kwargs))
        if len(key) > 255:
            return problem(400, _("The Idempotency-Key is longer than 255 characters."))
        token = g.api_token
        fingerprint = _request_hash()
        earlier = db.session.scalar(select(IdempotentReply).where(
            IdempotentReply.token_id == token.id, IdempotentReply.key == key))
        if earlier is not None:
            db.session.rollback()
            if earlier.request_hash != fingerprint:
                return problem(422, _("This Idempotency-Key was used for a different request."))
            response = jsonify(earlier.body)
            response.status_code = earlier.status
            if earlier.location:
                response.headers["Location"] = earlier.location
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            db.session.rollback()
            return response
        reply = IdempotentReply(token_id=token.id, key=key, request_hash=fingerprint,
                                status=response.status_code,
                                body=json.loads(response.get_data(as_text=True)),
                                location=response.headers.get("Location"))
        try:
            with db.session.begin_nested():
                db.session.add(reply)
        except IntegrityError:
            db.session.rollback()  # a concurrent retry claimed the key first: its reply counts
            return problem(409, _("A request with this Idempotency-Key is being processed: "
                                  "retry in a moment."))
        return _finish(response)

    return wrapped


def prune_replies(before) -> int:
    """Forget the replies kept for Idempotency-Keys used before ``before``: a retry after
    that creates anew."""
    return db.session.execute(delete(IdempotentReply).where(
        IdempotentReply.created_at < before)).rowcount


def _finish(result):
    response = current_app.make_response(result)
    if response.status_code < 400:
        audit_call(response.status_code)
        db.session.commit()
    else:
        db.session.rollback()
    return response


def writes(view):
    """A changing call that is not a creation: commit on success, roll back otherwise."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        return _finish(view(*args, **kwargs))

    return wrapped
