"""Identity documents, unified social credit codes and masking."""

from datetime import date

import pytest
from flask_babel import force_locale

from mediation.core.errors import OperationError
from mediation.core.identity import (
    DocumentType,
    IdInfo,
    check_id_number,
    check_uscc,
    id_check_char,
    mask_id,
    mask_phone,
)

TODAY = date(2026, 11, 23)


@pytest.fixture
def english(app):
    with force_locale("en"):
        yield


def _refused(doc_type, value, match, today=TODAY):
    with pytest.raises(OperationError, match=match) as caught:
        check_id_number(doc_type, value, today=today)
    assert caught.value.field == "id_number"


def test_the_published_examples_are_valid(english):
    assert check_id_number(DocumentType.RESIDENT_ID, "11010519491231002X", TODAY) == IdInfo(
        "11010519491231002X", date(1949, 12, 31), "female")
    assert check_id_number("resident_id", "440524188001010014", TODAY) == IdInfo(
        "440524188001010014", date(1880, 1, 1), "male")


def test_check_character_weights():
    # S mod 11 = 0..10 maps to 1 0 X 9 8 7 6 5 4 3 2.
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"
    assert id_check_char("00000000000000000") == "1"


def test_lowercase_x_spaces_and_full_width_are_normalised(english):
    info = check_id_number(DocumentType.RESIDENT_ID, " 110105 19491231 002x ", TODAY)
    assert info.number == "11010519491231002X"
    assert check_id_number(DocumentType.RESIDENT_ID, "１１０１０５１９４９１２３１００２ｘ",
                           TODAY).number == "11010519491231002X"


def test_bad_checksum(english):
    _refused(DocumentType.RESIDENT_ID, "110105194912310021", "check character")
    _refused(DocumentType.RESIDENT_ID, "440524188001010015", "check character")


def test_wrong_length_or_characters(english):
    for value in ["", "1101051949123100", "11010519491231002XX", "1101051949123100AX",
                  "110105491231002"]:  # the old 15-digit card is no longer valid
        with pytest.raises(OperationError) as caught:
            check_id_number(DocumentType.RESIDENT_ID, value, TODAY)
        assert caught.value.field == "id_number"
    _refused(DocumentType.RESIDENT_ID, "X10105194912310021", "18 characters")


def test_birth_date_must_be_real(english):
    # 30 February 1949, with a correct check character.
    assert id_check_char("11010519490230002") == "0"
    _refused(DocumentType.RESIDENT_ID, "110105194902300020", "not a real date")


def test_birth_date_must_not_be_in_the_future(english):
    _refused(DocumentType.RESIDENT_ID, "110105209901010012", "in the future")
    born_today = "1101052026112300" + "1"
    number = born_today + id_check_char(born_today)
    assert check_id_number(DocumentType.RESIDENT_ID, number, TODAY).birth_date == TODAY
    _refused(DocumentType.RESIDENT_ID, number, "in the future", today=date(2026, 11, 22))


def test_gender_from_the_seventeenth_digit(english):
    assert check_id_number(DocumentType.RESIDENT_ID, "110105199003070017", TODAY).gender == "male"
    assert check_id_number(DocumentType.RESIDENT_ID, "11010519491231002X", TODAY).gender \
        == "female"


def test_residence_permit_needs_prefix_81_82_83(english):
    info = check_id_number(DocumentType.RESIDENCE_PERMIT, "810000199001010019", TODAY)
    assert info == IdInfo("810000199001010019", date(1990, 1, 1), "male")
    assert check_id_number(DocumentType.RESIDENCE_PERMIT, "830000198512310020",
                           TODAY).gender == "female"
    _refused(DocumentType.RESIDENCE_PERMIT, "11010519491231002X", "81, 82 or 83")
    _refused(DocumentType.RESIDENCE_PERMIT, "810000199001010028", "check character")
    # A residence permit entered as an ID card is pointed to the right type.
    _refused(DocumentType.RESIDENT_ID, "810000199001010019", "choose that document type")


@pytest.mark.parametrize(("doc_type", "valid", "invalid"), [
    (DocumentType.HK_MACAO_PERMIT, ["H12345678", "m1234567890", "H 1234 5678"],
     ["H1234567", "H123456789", "X12345678", "12345678"]),
    (DocumentType.TAIWAN_PERMIT, ["12345678"], ["1234567", "123456789", "A2345678"]),
    (DocumentType.PASSPORT, ["E12345678", "ab123", "12345678901234567"],
     ["E123", "123456789012345678", "E1234567!"]),
    (DocumentType.FOREIGN_PERMANENT, ["911234567890123456", "91123456789012345x",
                                      "USA110012345678"],
     ["811234567890123456", "US1100123456789", "USA11001234567"]),
])
def test_other_documents_are_checked_by_format(english, doc_type, valid, invalid):
    for value in valid:
        info = check_id_number(doc_type, value, TODAY)
        assert info.birth_date is None and info.gender is None
        assert info.number == value.replace(" ", "").upper()
    for value in invalid:
        with pytest.raises(OperationError) as caught:
            check_id_number(doc_type, value, TODAY)
        assert caught.value.field == "id_number"


def test_document_types_have_titles(english):
    assert DocumentType.RESIDENT_ID.title == "Resident ID card"
    assert len(DocumentType.choices()) == 6
    assert [t for t in DocumentType if t.has_checksum] == [DocumentType.RESIDENT_ID,
                                                           DocumentType.RESIDENCE_PERMIT]


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # the example quoted in most GB 32100 implementations
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 腾讯科技（深圳）有限公司
    "91110108551385082Q",  # 小米科技有限责任公司
])
def test_published_credit_codes_are_valid(english, code):
    assert check_uscc(code) == code
    assert check_uscc(" " + code.lower() + " ") == code


@pytest.mark.parametrize(("code", "match"), [
    ("914403001922038217", "check character"),
    ("91350100M000100Y44", "check character"),
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100I43", "18 characters"),  # I is not in the character set
    ("91350100O000100Y43", "18 characters"),
])
def test_bad_credit_codes(english, code, match):
    with pytest.raises(OperationError, match=match) as caught:
        check_uscc(code)
    assert caught.value.field == "uscc"


def test_mask_id():
    assert mask_id("11010519491231002X") == "**************002X"
    assert mask_id("USA110012345678") == "***********5678"
    assert mask_id("E12345678") == "*****5678"
    assert mask_id("H123456") == "*****56"
    assert mask_id("1234") == "****"
    assert mask_id("") == ""
    assert mask_id(None) == ""


def test_mask_phone():
    assert mask_phone("13812345678") == "*******5678"
    assert mask_phone("+86 138 1234 5678") == "*******5678"
    assert mask_phone("0546-8888888") == "****-***8888"
    assert mask_phone("05468888888") == "****-***8888"
    assert mask_phone("010-12345678") == "***-****5678"
    assert mask_phone("0546-8888888-123") == "****-***8888"
    assert mask_phone("12345") == "***45"
    assert mask_phone("") == ""
