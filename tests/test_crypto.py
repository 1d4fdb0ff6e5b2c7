"""Field encryption of ID numbers at rest, key rotation and blind indexes."""

import pytest
from cryptography.fernet import Fernet

from mediation.core import crypto
from mediation.core.crypto import InvalidToken, blind_index, decrypt, encrypt

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def field_key(app):
    key = Fernet.generate_key().decode()
    app.config["FIELD_ENCRYPTION_KEY"] = key
    return key


def test_round_trip(app, field_key):
    token = encrypt(ID_NUMBER)
    assert decrypt(token) == ID_NUMBER
    assert decrypt(encrypt("张三 13812345678")) == "张三 13812345678"
    assert len(token) <= 160


def test_ciphertext_differs_each_time_and_hides_the_plaintext(app, field_key):
    first, second = encrypt(ID_NUMBER), encrypt(ID_NUMBER)
    assert first != second
    for token in (first, second):
        assert ID_NUMBER not in token and "19491231" not in token


def test_development_derives_a_key_from_secret_key(app):
    assert not app.config.get("FIELD_ENCRYPTION_KEY")
    token = encrypt(ID_NUMBER)
    assert decrypt(token) == ID_NUMBER
    app.config["SECRET_KEY"] = "another-secret-key"
    with pytest.raises(InvalidToken):
        decrypt(token)


def test_blind_index_is_stable_normalised_and_key_dependent(app, field_key):
    index = blind_index(ID_NUMBER)
    assert len(index) == 64 and int(index, 16) >= 0
    assert blind_index(ID_NUMBER) == index
    assert blind_index(" 11010519491231002x ") == index
    assert blind_index("440524188001010014") != index
    app.config["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    assert blind_index(ID_NUMBER) != index


def test_old_key_still_decrypts_after_rotation(app, field_key):
    token = encrypt(ID_NUMBER)
    new_key = Fernet.generate_key().decode()
    app.config["FIELD_ENCRYPTION_KEY"] = new_key
    with pytest.raises(InvalidToken):
        decrypt(token)
    app.config["FIELD_ENCRYPTION_OLD_KEYS"] = f"{Fernet.generate_key().decode()}, {field_key}"
    assert decrypt(token) == ID_NUMBER
    rotated = crypto.rotate(token)
    app.config["FIELD_ENCRYPTION_OLD_KEYS"] = ""
    assert decrypt(rotated) == ID_NUMBER  # now readable with the new key alone
    assert decrypt(encrypt(ID_NUMBER)) == ID_NUMBER


def test_production_without_a_key_refuses(app):
    app.config["ENV_NAME"] = "production"
    app.config.pop("FIELD_ENCRYPTION_KEY", None)
    with pytest.raises(RuntimeError, match="FIELD_ENCRYPTION_KEY.*Fernet.generate_key"):
        encrypt(ID_NUMBER)
    with pytest.raises(RuntimeError):
        blind_index(ID_NUMBER)


def test_a_malformed_key_is_reported(app):
    app.config["FIELD_ENCRYPTION_KEY"] = "not-a-fernet-key"
    with pytest.raises(RuntimeError, match="Fernet"):
        encrypt(ID_NUMBER)
    with pytest.raises(RuntimeError, match="Fernet"):
        blind_index(ID_NUMBER)
