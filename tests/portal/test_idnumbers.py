import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from portal.lib import idnumbers

DEMO_IDS = [
    "232701195603120223",
    "210102196208050352",
    "232721197811200177",
    "210202199004150481",
    "210103198512010131",
    "23272219700630026X",
    "21010219580101055X",
]


@pytest.mark.parametrize("number", DEMO_IDS)
def test_demo_id_numbers_are_genuine(number):
    assert idnumbers.problem(number) is None


def test_rule_1_id_number_of_retiree_born_before_area_code_existed_is_accepted():
    # domain.md §1: cn.ric.validate rejects this genuine 1962 Shenyang number; we must not.
    from stdnum.cn import ric

    assert not ric.is_valid("210102196208050352")
    assert idnumbers.problem("210102196208050352") is None


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("232701195603120224", idnumbers.INVALID_CHECK_DIGIT),
        ("232701195602300223", idnumbers.INVALID_BIRTH_DATE),  # 30 February
        ("23270119560312022", idnumbers.INVALID_FORMAT),
        ("2327011956031202X3", idnumbers.INVALID_FORMAT),
        ("abcdefghijklmnopqr", idnumbers.INVALID_FORMAT),
        ("", idnumbers.INVALID_FORMAT),
    ],
)
def test_rule_1_invalid_id_numbers_get_a_reason(number, code):
    assert idnumbers.problem(number) == code


def test_rule_1_birth_date_in_the_future_is_refused():
    body = "21010220990101001"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    assert (
        idnumbers.problem(number, today=datetime.date(2026, 1, 1)) == idnumbers.INVALID_BIRTH_DATE
    )


def test_rule_1_unknown_area_code_is_refused():
    from stdnum.cn import ric

    body = "99000019620805035"
    number = body + ric.calc_check_digit(body + "0")
    assert idnumbers.problem(number) == idnumbers.INVALID_AREA


def test_lowercase_x_and_spaces_are_normalised():
    assert idnumbers.problem(" 23272219700630026x ") is None
    assert idnumbers.id_hash("23272219700630026x") == idnumbers.id_hash("23272219700630026X")


def test_validation_message_follows_the_language():
    messages = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang), pytest.raises(ValidationError) as error:
            idnumbers.validate_id_number("232701195603120224")
        with translation.override(lang):
            messages[lang] = str(error.value.messages[0])
    assert "校验码" in messages["zh-hans"]
    assert "check digit" in messages["en"]


def test_mask_keeps_four_and_four():
    assert idnumbers.mask("232701195603120223") == "2327**********0223"
    assert idnumbers.mask_name("王秀兰") == "王*兰"
    assert idnumbers.mask_name("张伟") == "张*"


def test_keyed_hash_depends_on_the_secret(settings):
    first = idnumbers.id_hash("232701195603120223")
    settings.ID_HASH_KEY = "another"
    assert idnumbers.id_hash("232701195603120223") != first
    assert "232701195603120223" not in first


def test_rule_1_full_width_digits_and_invisible_characters_are_read_as_typed():
    """An input method's full-width digits (２３２７…) and a zero-width space pasted from a chat
    are the same number, not a "wrong check digit"; non-ASCII digits that are not full-width
    forms (Arabic-Indic) are not a number at all."""
    full_width = "２３２７０１１９５６０３１２０２２３"
    assert idnumbers.normalize(full_width) == "232701195603120223"
    assert idnumbers.problem(full_width) is None
    assert idnumbers.problem("232701\u200b195603120223\ufeff") is None
    assert idnumbers.problem("٢٣٢٧٠١١٩٥٦٠٣١٢٠٢٢٣") == idnumbers.INVALID_FORMAT
    assert idnumbers.id_hash(full_width) == idnumbers.id_hash("232701195603120223")
