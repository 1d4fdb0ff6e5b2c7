"""What residents hold and give: an access code (查询码) per party of a case, and each
party's rating of the service (满意度评价)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.cases.models import Case, Party
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
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


class Satisfaction(TitledEnum):
    """The three answers residents are asked for (满意 / 基本满意 / 不满意)."""

    SATISFIED = "satisfied"
    FAIRLY = "fairly_satisfied"
    UNSATISFIED = "unsatisfied"

    @classmethod
    def __titles__(cls):
        return {cls.SATISFIED: _l("Satisfied"), cls.FAIRLY: _l("Fairly satisfied"),
                cls.UNSATISFIED: _l("Not satisfied")}


class Rating(db.Model):
    """A party's rating of the service once its case has an outcome: one per party (a party
    belongs to one case), kept with the case for the follow-up record and the statistics."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"),
                                          unique=True)
    satisfaction: Mapped[Satisfaction] = mapped_column(enum_column(Satisfaction))
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    case: Mapped[Case] = relationship()
    party: Mapped[Party] = relationship()
