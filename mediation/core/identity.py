"""Identity documents (身份证件) and organisation codes: checking, normalising, masking.

Only the resident ID card and the HK/Macao/Taiwan residence permit carry a check
character (GB 11643-1999) and a birth date; the other documents are checked by format.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from mediation.core.enums import TitledEnum
from mediation.core.errors import OperationError
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.validators import normalise_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"  # indexed by S mod 11
RESIDENCE_PERMIT_PREFIXES = frozenset({"81", "82", "83"})  # Hong Kong, Macao, Taiwan

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_ID_18 = re.compile(r"^\d{17}[\dX]$")
_HK_MACAO_PERMIT = re.compile(r"^[HM](\d{8}|\d{10})$")
_TAIWAN_PERMIT = re.compile(r"^\d{8}$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_FOREIGN_PERMANENT_NEW = re.compile(r"^9\d{16}[\dX]$")
_FOREIGN_PERMANENT_OLD = re.compile(r"^[A-Z]{3}\d{12}$")


class DocumentType(TitledEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证
    RESIDENCE_PERMIT = "residence_permit"  # 港澳台居民居住证
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    PASSPORT = "passport"  # 护照
    FOREIGN_PERMANENT = "foreign_permanent"  # 外国人永久居留身份证

    @classmethod
    def __titles__(cls):
        return {
            cls.RESIDENT_ID: _l("Resident ID card"),
            cls.RESIDENCE_PERMIT: _l("Residence permit for Hong Kong, Macao and Taiwan residents"),
            cls.HK_MACAO_PERMIT: _l("Mainland travel permit for Hong Kong and Macao residents"),
            cls.TAIWAN_PERMIT: _l("Mainland travel permit for Taiwan residents"),
            cls.PASSPORT: _l("Passport"),
            cls.FOREIGN_PERMANENT: _l("Foreign permanent resident ID card"),
        }

    @property
    def has_checksum(self) -> bool:
        return self in (DocumentType.RESIDENT_ID, DocumentType.RESIDENCE_PERMIT)


@dataclass(frozen=True)
class IdInfo:
    """A checked document number and what it tells about its holder."""

    number: str
    birth_date: date | None = None
    gender: str | None = None  # "male" / "female"


def normalise_code(value: str | None) -> str:
    """Full-width characters folded (NFKC), spaces and hyphens dropped, letters uppercase."""
    folded = unicodedata.normalize("NFKC", value or "")
    return re.sub(r"[\s-]+", "", folded).upper()


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 (ISO 7064 MOD 11-2) check character for 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def _error(message: str) -> OperationError:
    return OperationError(message, field="id_number")


def _check_citizen_number(number: str, today: date) -> IdInfo:
    """The 18-character number shared by the ID card and the residence permit."""
    if not _ID_18.match(number):
        raise _error(_("The number must have 18 characters: 17 digits, then a digit or X."))
    if id_check_char(number[:17]) != number[17]:
        raise _error(_("The number's check character does not match: please check it "
                       "against the document."))
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _error(_("Characters 7 to 14 of the number are not a real date of birth.")) \
            from None
    if birth > today:
        raise _error(_("The date of birth in the number is in the future."))
    gender = "male" if int(number[16]) % 2 else "female"
    return IdInfo(number, birth, gender)


def check_id_number(doc_type: DocumentType | str, value: str,
                    today: date | None = None) -> IdInfo:
    """Check a document number for its type; raises OperationError(field="id_number")."""
    doc_type = DocumentType(doc_type)
    number = normalise_code(value)
    today = today or datetime.now(SHANGHAI).date()
    if not number:
        raise _error(_("Enter the document number."))

    if doc_type is DocumentType.RESIDENT_ID:
        info = _check_citizen_number(number, today)
        if number[:2] in RESIDENCE_PERMIT_PREFIXES:
            raise _error(_("This is a residence permit number for Hong Kong, Macao or Taiwan "
                           "residents: choose that document type."))
        return info
    if doc_type is DocumentType.RESIDENCE_PERMIT:
        info = _check_citizen_number(number, today)
        if number[:2] not in RESIDENCE_PERMIT_PREFIXES:
            raise _error(_("A residence permit number for Hong Kong, Macao or Taiwan residents "
                           "starts with 81, 82 or 83."))
        return info

    if doc_type is DocumentType.HK_MACAO_PERMIT:
        ok, message = _HK_MACAO_PERMIT.match(number), _(
            "A Hong Kong or Macao residents' travel permit number is H or M followed by "
            "8 or 10 digits.")
    elif doc_type is DocumentType.TAIWAN_PERMIT:
        ok, message = _TAIWAN_PERMIT.match(number), _(
            "A Taiwan residents' travel permit number has 8 digits.")
    elif doc_type is DocumentType.PASSPORT:
        ok, message = _PASSPORT.match(number), _(
            "A passport number has 5 to 17 letters or digits.")
    else:
        ok = _FOREIGN_PERMANENT_NEW.match(number) or _FOREIGN_PERMANENT_OLD.match(number)
        message = _("A foreign permanent resident ID number has 18 characters starting with 9, "
                    "or (older cards) 3 letters followed by 12 digits.")
    if not ok:
        raise _error(message)
    return IdInfo(number)


def check_uscc(value: str) -> str:
    """The normalised unified social credit code (GB 32100-2015), or OperationError."""
    code = normalise_code(value)
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        raise OperationError(_("A unified social credit code has 18 characters: digits and "
                               "capital letters except I, O, S, V and Z."), field="uscc")
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    if USCC_CHARSET[(31 - total % 31) % 31] != code[17]:
        raise OperationError(_("The code's check character does not match: please check it "
                               "against the business licence."), field="uscc")
    return code


def _mask_middle(value: str, head: int, tail: int) -> str:
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail:]


def _keep_last(value: str, keep: int) -> str:
    """Every character but the last ``keep`` hidden; separators (-, space) stay."""
    hidden, kept = value[:len(value) - keep], value[len(value) - keep:]
    return "".join(c if c in "- " else "*" for c in hidden) + kept


def mask_id(value: str | None) -> str:
    """``**************002X``: only the last four characters kept (two of a short number).

    Region and birth date stay hidden: the birth date is shown beside the number (forms,
    agreements), so a mask that hid only the birth date would be undone by reading both.
    """
    value = value or ""
    if len(value) >= 8:
        return _keep_last(value, 4)
    if len(value) > 4:
        return _keep_last(value, 2)
    return "*" * len(value)


def mask_phone(value: str | None) -> str:
    """``*******5678``: the last four digits kept; a landline's area code and extension
    hidden too (``****-***8888``)."""
    phone = normalise_phone(value or "")
    if phone is None:
        return mask_id(re.sub(r"\s+", "", value or ""))
    area_and_local = "-".join(phone.split("-")[:2])
    return _keep_last(area_and_local, 4)


def mask_name(value: str | None, *, organisation: bool = False) -> str:
    """张** for a person (whatever the name's length); an organisation keeps its first two
    and last two characters (东营*********公司)."""
    value = (value or "").strip()
    if organisation and len(value) >= 6:
        return _mask_middle(value, 2, 2)
    return value[:1] + "*" * (len(value) - 1)
