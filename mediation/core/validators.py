"""Validation and normalisation shared by forms, operations and the CLI."""

import re

from mediation.core.i18n import lazy_gettext as _l

# What a phone number that is neither a mobile nor a landline is told, wherever it is typed.
PHONE_INVALID = _l("Not a valid phone number: a mobile has 11 digits starting with 13–19; a "
                   "landline has its area code, e.g. 0546-8888888.")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,31}$")
# A link people are sent to (a video meeting): http or https only, never javascript: or data:,
# with a host, and no spaces or control characters (they would break a calendar file's line).
# Written so that JSON Schema (the API's document) reads it the same way.
WEB_LINK = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s\x00-\x1f\x7f/?#]+[^\s\x00-\x1f\x7f]*$"
_WEB_LINK = re.compile(WEB_LINK)


def normalise_phone(value: str) -> str | None:
    """A mainland mobile (11 digits, 1[3-9]) or a landline with area code; None if neither."""
    cleaned = re.sub(r"[\s()（）]", "", value or "")
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    if _MOBILE.match(cleaned):
        return cleaned
    if _LANDLINE.match(cleaned):
        digits = cleaned.replace("-", "")
        if "-" in cleaned:
            return cleaned
        # Split a bare landline after its area code: 3 digits for 010/02x, else 4.
        cut = 3 if digits[1] in "12" else 4
        return f"{digits[:cut]}-{digits[cut:]}"
    return None


def is_valid_code(value: str) -> bool:
    return bool(_CODE.match(value or ""))


def is_web_link(value: str | None) -> bool:
    return bool(_WEB_LINK.match(value or ""))


def split_codes(value: str) -> list[str]:
    """Codes typed in a box: separated by spaces, commas (either width), 、 or new lines."""
    return [c for c in re.split(r"[\s,，、;；]+", value or "") if c]
