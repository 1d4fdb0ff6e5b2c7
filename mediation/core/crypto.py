"""Field encryption for sensitive values at rest (ID numbers), and blind indexes to match them.

``FIELD_ENCRYPTION_KEY`` is a Fernet key; keys listed in ``FIELD_ENCRYPTION_OLD_KEYS``
(comma-separated) still decrypt, so a key can be rotated without downtime.  Outside
production a missing key is derived from SECRET_KEY, so development needs no setup.
"""

import base64
import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["InvalidToken", "blind_index", "decrypt", "encrypt", "rotate"]

GENERATE_HINT = ("python -c 'from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())'")


def _hkdf(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def _configured_keys() -> tuple[str, ...]:
    """The current key first, then the old ones, as configured (or derived)."""
    config = current_app.config
    key = config.get("FIELD_ENCRYPTION_KEY")
    if not key:
        if config["ENV_NAME"] == "production":
            raise RuntimeError(
                "FIELD_ENCRYPTION_KEY must be set in production (a Fernet key, e.g. "
                f"{GENERATE_HINT}); keep it safe: without it encrypted fields are lost")
        if not config.get("SECRET_KEY"):
            raise RuntimeError("FIELD_ENCRYPTION_KEY or SECRET_KEY must be set")
        derived = _hkdf(config["SECRET_KEY"].encode(), b"mediation field encryption")
        key = base64.urlsafe_b64encode(derived).decode()
    old = config.get("FIELD_ENCRYPTION_OLD_KEYS") or ()
    if isinstance(old, str | bytes):
        old = _text(old).split(",")
    return (_text(key), *(_text(k).strip() for k in old if _text(k).strip()))


def _text(key: str | bytes) -> str:
    return key.decode("ascii") if isinstance(key, bytes) else key


def _fernet() -> MultiFernet:
    return _build_fernet(_configured_keys())


@lru_cache(maxsize=8)
def _build_fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise RuntimeError("FIELD_ENCRYPTION_KEY and FIELD_ENCRYPTION_OLD_KEYS must be Fernet "
                           f"keys (32 url-safe base64-encoded bytes), e.g. {GENERATE_HINT}") \
            from None


@lru_cache(maxsize=8)
def _index_key(field_key: str) -> bytes:
    return _hkdf(base64.urlsafe_b64decode(field_key), b"mediation blind index")


def encrypt(text: str) -> str:
    """A Fernet token (ASCII, about 120 characters for an ID number) under the current key."""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The plain text; raises ``InvalidToken`` if no configured key opens the token."""
    return _fernet().decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """The same value re-encrypted under the current key (for a re-keying job)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def blind_index(text: str) -> str:
    """HMAC-SHA256 (hex) of the normalised value: equal ID numbers match without decrypting.

    The key derives from the current field key, so rotating that key means recomputing
    the stored indexes.
    """
    normalised = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    keys = _configured_keys()
    _build_fernet(keys)  # a malformed key fails here with the helpful message
    key = _index_key(keys[0])
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()
