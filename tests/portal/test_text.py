"""portal.lib.text: sentences put together from translated pieces."""

from portal.lib.text import sentences


def test_chinese_sentences_follow_one_another_without_a_space():
    joined = sentences("材料尚未补齐。", "补交期限：2026-12-27。")
    assert joined == "材料尚未补齐。补交期限：2026-12-27。"


def test_english_sentences_are_separated_by_one_space():
    joined = sentences("Outstanding.", "Deadline: 2026-12-27.")
    assert joined == "Outstanding. Deadline: 2026-12-27."


def test_empty_pieces_are_left_out():
    assert sentences("", "One.", "", "Two.") == "One. Two."
    assert sentences() == ""


def test_an_amount_for_a_person_has_its_thousands_grouped():
    from decimal import Decimal

    from portal.templatetags.portal_tags import yuan

    assert yuan(Decimal("150345.58")) == "150,345.58"
    assert yuan(Decimal("0")) == "0.00"
    assert yuan("1234.5") == "1,234.50"
    assert yuan(None) == ""


def test_plain_text_drops_invisible_and_control_characters_and_keeps_the_writing():
    from portal.lib.text import plain

    assert plain(" \u202e王\u200b秀兰\ufeff\x00 ") == "王秀兰"
    assert plain("第一行\n第二行") == "第一行\n第二行"
    assert plain("ＡＢＣ 李") == "ＡＢＣ 李"  # full-width letters are the person's writing
    assert plain("e\u0301") == "\u00e9"  # composed (NFC)
