"""What residents hold: an access code (查询码) per party of a case."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.cases.models import Party
from mediation.core.db import utcnow
from mediation.extensions import db


class AccessCode(db.Model):
    """A party's code for its own view of its case; only a keyed hash is kept.

    One per party: issuing a new one replaces the old, which stops working at once.
    """

    __tablename__ = "access_codes"

    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"),
                                          primary_key=True, autoincrement=False)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))

    party: Mapped[Party] = relationship()
