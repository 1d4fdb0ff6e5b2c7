"""The one place that decides who may see what.

Every list, page, export and API route goes through ``scope_filter``/``scope_query``
(rows by jurisdiction) and ``require`` (actions by role).  A user sees the area nodes
they are attached to and everything below them; rows outside that are visible only
through an explicit assignment the caller passes in as ``assigned``.

Users are duck-typed (``has_global_scope``, ``jurisdiction_paths``, ``can``) so that
this module stays below the ``users`` package.
"""

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import ColumnElement, false, or_, true

from mediation.extensions import login_manager


def scope_filter(user, path_column, *, assigned: ColumnElement | None = None) -> ColumnElement:
    """SQL condition: the row's area path lies inside ``user``'s jurisdiction, or it is assigned."""
    if user is None or not user.is_authenticated:
        return false()
    if user.has_global_scope:
        return true()
    conditions = [path_column.startswith(prefix, autoescape=True)
                  for prefix in user.jurisdiction_paths]
    if assigned is not None:
        conditions.append(assigned)
    return or_(*conditions) if conditions else false()


def scope_query(user, stmt, path_column, *, assigned: ColumnElement | None = None):
    """``stmt`` limited to what ``user`` may see."""
    return stmt.where(scope_filter(user, path_column, assigned=assigned))


def can_view_path(user, path: str) -> bool:
    """Python twin of ``scope_filter`` for one object already loaded."""
    if user is None or not user.is_authenticated:
        return False
    if user.has_global_scope:
        return True
    return any(path.startswith(prefix) for prefix in user.jurisdiction_paths)


def require(permission: str):
    """View decorator: 403 unless the logged-in user's role grants ``permission``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
