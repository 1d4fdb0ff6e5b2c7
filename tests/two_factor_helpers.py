"""The tests' authenticator app: the TOTP secrets of the accounts the tests enrolled.

Each test's app has its own database, so its own keyring.  Codes are made with pyotp,
as a phone would make them.  The server takes a code of the previous, the current or
the next 30-second step, each step once: a login takes the earliest step not used yet
(a phone a little behind), and only when all three are used does it wait for the next
step, as a person would.
"""

import re
import time
import weakref
from dataclasses import dataclass, field
from html import unescape

import pyotp

from mediation.users.two_factor import ALLOWED_DRIFT, STEP_SECONDS

_KEYRINGS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# Too close to the end of a step, the previous step's code may expire before it arrives.
_MARGIN = 2.0


@dataclass
class Device:
    """One account's authenticator app, and the recovery codes it was given."""

    secret: str
    last_step: int | None = None
    recovery_codes: list[str] = field(default_factory=list)

    def next_code(self) -> str:
        now = time.time()
        step = int(now // STEP_SECONDS)
        earliest = step - ALLOWED_DRIFT
        if now - step * STEP_SECONDS > STEP_SECONDS - _MARGIN:
            earliest += 1
        candidate = max(earliest, (self.last_step or 0) + 1)
        if candidate > step + ALLOWED_DRIFT:
            # Every step the server takes now is used: wait until the next one is taken.
            time.sleep((candidate - ALLOWED_DRIFT) * STEP_SECONDS - now + 0.05)
        self.last_step = candidate
        return pyotp.TOTP(self.secret).generate_otp(candidate)


def keyring(app) -> dict[str, Device]:
    """The devices of ``app``'s accounts, by lower-case username."""
    return _KEYRINGS.setdefault(app, {})


def secret_from(html: str) -> str:
    """The key printed on the enrolment page for typing by hand."""
    match = re.search(r'id="totp-secret"[^>]*>([^<]+)<', html)
    assert match, "no TOTP key on the enrolment page"
    return "".join(unescape(match.group(1)).split())


def recovery_codes_from(html: str) -> list[str]:
    block = re.search(r'id="recovery-codes"[^>]*>(.*?)</ol>', html, re.S)
    assert block, "no recovery codes on the page"
    return re.findall(r"<code>([^<]+)</code>", block.group(1))
