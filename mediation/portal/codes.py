"""Access codes (查询码): eight digits, easy to type on an old phone's keypad.

The plain code exists only while it is issued — shown once, printed on the notice made
then, put in the SMS text — and the database keeps a keyed hash (HMAC with the field
key) of the case and the code, so a stolen table cannot be tried offline.  Looking a code
up costs the same single query whether the case number exists or not.
"""

import secrets

from sqlalchemy import select

from mediation.cases.models import Case, Party
from mediation.core import audit
from mediation.core.crypto import blind_index
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.portal.models import AccessCode

DIGITS = 8


def _hash(case_number: str, code: str) -> str:
    return blind_index(f"access-code:{case_number.strip().upper()}:{code}")


def normalise(code: str) -> str:
    """The digits a person typed (spaces and dashes dropped, full-width digits folded)."""
    return "".join(c for c in (code or "").translate(_FULL_WIDTH) if c.isdigit())


_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def issue(by, party: Party) -> str:
    """A new code for ``party`` (the old one stops working); the plain code, to show once.

    ``by`` None: a resident's own report (logged as the resident's, see ``audit.acting_as``).
    """
    code = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    row = db.session.get(AccessCode, party.id)
    renewed = row is not None
    if row is None:
        row = AccessCode(party_id=party.id)
        db.session.add(row)
    row.code_hash = _hash(party.case.number, code)
    row.issued_by_id = by.id if by else None
    row.issued_at = utcnow()
    db.session.flush()
    audit.record("party.access_code.renew" if renewed else "party.access_code.issue",
                 object_type="Case", object_id=party.case.number, actor=by,
                 after={"party": party.id})
    return code


def party_for(case_number: str, code: str) -> Party | None:
    """The party whose code this is for this case, or None (one query either way)."""
    digits = normalise(code)
    if len(digits) != DIGITS:
        digits = "not-a-code"  # never issued; still hash and query: the same work every time
    return db.session.scalar(
        select(Party).join(AccessCode, AccessCode.party_id == Party.id)
        .join(Case, Party.case_id == Case.id)
        .where(Case.number == (case_number or "").strip().upper(),
               AccessCode.code_hash == _hash(case_number or "", digits)))
