"""The hospital's itemised list read from a file (settlement.forms.parse_bill) against files
made to hurt: a zip bomb, cells too long or with control characters, a hidden sheet, formulas
without a saved value. Each refusal says why, row by row where it is a row's fault."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from settlement.forms import ItemForm, parse_bill

HEADER = ["code", "name", "class", "amount"]


def _xlsx(*sheets: tuple[str, list[list], str]) -> bytes:
    """A workbook of (title, rows, state) sheets, state "visible", "hidden" or "veryHidden"."""
    book = Workbook()
    book.remove(book.active)
    for title, rows, state in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(data: bytes, name: str = "bill.xlsx"):
    return SimpleUploadedFile(name, data)


def _refusal(data: bytes, name: str = "bill.xlsx") -> list[str]:
    with pytest.raises(ValidationError) as refused:
        parse_bill(_upload(data, name))
    return refused.value.messages


def _with_member(data: bytes, member: str, size: int) -> bytes:
    """The workbook with `member` replaced by `size` bytes of one repeated letter inside an XML
    string (compressed to almost nothing), written in pieces so the test itself stays small."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info.filename))
        with target.open(member, "w", force_zip64=True) as big:
            big.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            big.write(b"<si><t>")
            chunk = b"A" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                big.write(chunk)
            big.write(b"</t></si></sst>")
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked_naming_the_file():
    book = _xlsx(("Bill", [HEADER, ["X1", "住院费", "A", 100]], "visible"))
    bomb = _with_member(book, "xl/sharedStrings.xml", 40 * 1024 * 1024)
    assert len(bomb) < 200 * 1024  # small on the wire, 40 MB unpacked
    messages = _refusal(bomb, "住院清单.xlsx")
    assert len(messages) == 1 and "住院清单.xlsx" in messages[0]
    assert "解压" in messages[0]


def test_a_member_packed_far_tighter_than_a_spreadsheet_is_refused_even_under_the_total_cap():
    book = _xlsx(("Bill", [HEADER, ["X1", "住院费", "A", 100]], "visible"))
    packed = _with_member(book, "xl/sharedStrings.xml", 5 * 1024 * 1024)
    messages = _refusal(packed, "bill.xlsx")
    assert len(messages) == 1 and "bill.xlsx" in messages[0]


def test_a_file_that_starts_like_a_zip_but_is_not_one_is_refused_cleanly():
    messages = _refusal(b"PK\x03\x04 this is not a workbook at all", "bill.xlsx")
    assert len(messages) == 1 and "bill.xlsx" in messages[0]


def test_an_xlsx_named_file_that_is_not_a_zip_is_refused_as_not_a_workbook():
    messages = _refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "bill.xlsx")
    assert len(messages) == 1 and "bill.xlsx" in messages[0]


def test_an_ordinary_workbook_passes_the_unpacking_checks():
    rows = [HEADER] + [[f"X{i}", "住院费" * 20, "A", 10.5] for i in range(500)]
    items = parse_bill(_upload(_xlsx(("Bill", rows, "visible"))))
    assert len(items) == 500 and items[0]["amount"] == "10.50"


# --- cells: the lengths of the item row, control characters --------------------------------


def test_the_code_and_name_of_a_row_keep_the_item_rows_lengths_row_by_row():
    code_max = ItemForm.base_fields["code"].max_length
    name_max = ItemForm.base_fields["name"].max_length
    rows = [
        HEADER,
        ["C" * code_max, "名" * name_max, "A", 10],  # just fits
        ["C" * (code_max + 1), "药", "A", 10],
        ["X3", "名" * (name_max + 1), "A", 10],
    ]
    messages = _refusal(_xlsx(("Bill", rows, "visible")))
    assert messages == [
        f"第 3 行：目录编码不能超过 {code_max} 个字符。",
        f"第 4 行：项目名称不能超过 {name_max} 个字符。",
    ]


def test_a_csv_row_too_long_is_named_in_english_too():
    from django.utils import translation

    csv = f"X1,{'n' * 101},A,10\n".encode()
    with translation.override("en"):
        messages = _refusal(csv, "bill.csv")
    assert messages == ["Row 1: the item name is longer than 100 characters."]


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\n"])
def test_control_characters_in_a_cell_are_refused_with_the_row(bad):
    rows = f'code,name,class,amount\nX1,住院费,A,10\nX2,"药{bad}品",A,20\n'
    messages = _refusal(rows.encode(), "bill.csv")
    assert messages == ["第 3 行：单元格含有控制字符（如 NUL），请删除后重新上传。"]


def test_control_characters_a_workbook_can_hold_are_refused_with_the_row():
    """XML keeps NUL and most C0 controls out of a workbook, not line breaks or C1 controls."""
    rows = [
        HEADER,
        ["X1", "住院费", "A", 10],
        ["X2", "药\x85品", "A", 10],
        ["X3\r\nX4", "药", "A", 5],
    ]
    messages = _refusal(_xlsx(("Bill", rows, "visible")))
    assert messages == [
        "第 3 行：单元格含有控制字符（如 NUL），请删除后重新上传。",
        "第 4 行：单元格含有控制字符（如 NUL），请删除后重新上传。",
    ]


def test_a_tab_in_a_cell_is_not_a_control_character_to_refuse():
    items = parse_bill(_upload(b'X1,"a\tb",A,10\n', "bill.csv"))
    assert items[0]["name"] == "a\tb"


# --- sheets: only what the person sees ---------------------------------------------------


def test_a_hidden_sheet_is_not_read_in_place_of_the_visible_one():
    hidden = ("Old", [HEADER, ["X1", "住院费", "A", 99999]], "hidden")
    shown = ("Bill", [HEADER, ["X1", "住院费", "A", 1200]], "visible")
    items = parse_bill(_upload(_xlsx(hidden, shown)))
    assert [i["amount"] for i in items] == ["1200.00"]
    very = ("Old", [HEADER, ["X1", "住院费", "A", 99999]], "veryHidden")
    items = parse_bill(_upload(_xlsx(very, shown)))
    assert [i["amount"] for i in items] == ["1200.00"]


def test_items_on_two_visible_sheets_are_refused_asking_for_one_sheet():
    first = ("一月", [HEADER, ["X1", "住院费", "A", 1200]], "visible")
    second = ("二月", [HEADER, ["X2", "药费", "A", 300]], "visible")
    messages = _refusal(_xlsx(first, second))
    assert len(messages) == 1
    assert "一月" in messages[0] and "二月" in messages[0] and "一个工作表" in messages[0]


def test_empty_visible_sheets_beside_the_bill_do_not_count():
    """Older Excel and WPS start a workbook with Sheet1, Sheet2 and Sheet3."""
    bill = ("Sheet1", [HEADER, ["X1", "住院费", "A", 1200]], "visible")
    items = parse_bill(_upload(_xlsx(bill, ("Sheet2", [], "visible"), ("Sheet3", [], "visible"))))
    assert [i["amount"] for i in items] == ["1200.00"]


def test_a_workbook_whose_only_items_are_hidden_has_no_items():
    hidden = ("Old", [HEADER, ["X1", "住院费", "A", 99999]], "hidden")
    messages = _refusal(_xlsx(hidden, ("Bill", [], "visible")))
    assert messages == ["费用明细文件中没有费用项目。"]


# --- amounts: say why one is refused -------------------------------------------------------


def test_a_formula_without_a_saved_value_says_to_save_the_file_or_type_the_value():
    rows = [HEADER, ["X1", "住院费", "A", 100], ["X2", "药费", "A", "=D2*2"]]
    messages = _refusal(_xlsx(("Bill", rows, "visible")))
    assert len(messages) == 1 and messages[0].startswith("第 3 行：")
    assert "公式" in messages[0] and "WPS" in messages[0] and "金额无效" not in messages[0]


def _with_sheet_xml(book: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change` (what Excel writes and
    openpyxl does not)."""
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            text = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = change(text)
            target.writestr(info, text)
    return out.getvalue()


def test_a_formula_with_its_saved_value_is_read_as_that_value():
    book = _xlsx(("Bill", [HEADER, ["X1", "住院费", "A", "=50*2"]], "visible"))

    def saved(text: bytes) -> bytes:  # as Excel saves it: the formula and the value it computed
        text = text.replace(b"<f>50*2</f><v></v>", b"<f>50*2</f><v>100</v>")
        text = text.replace(b"<f>50*2</f><v />", b"<f>50*2</f><v>100</v>")
        assert b"<v>100</v>" in text
        return text

    items = parse_bill(_upload(_with_sheet_xml(book, saved)))
    assert items[0]["amount"] == "100.00"


def test_a_formula_whose_saved_result_is_empty_text_is_an_empty_cell_not_a_formula_to_save():
    """Excel saves the empty text of =IF(...,"",...) as text: the code is empty, as typed so."""
    rows = [HEADER, ['=IF(1=1,"","X")', "住院费", "A", 100]]
    book = _xlsx(("Bill", rows, "visible"))

    def as_text(text: bytes) -> bytes:
        text = text.replace(b'<c r="A2">', b'<c r="A2" t="str">')
        assert b'<c r="A2" t="str"><f>' in text
        return text

    items = parse_bill(_upload(_with_sheet_xml(book, as_text)))
    assert items[0]["code"] == "" and items[0]["amount"] == "100.00"
    # The same formula never computed (as openpyxl writes it): save the file first.
    messages = _refusal(book)
    assert len(messages) == 1 and "公式" in messages[0]


def test_an_amount_with_three_decimals_says_at_most_two():
    messages = _refusal(b"X1,a,A,10.005\nX2,b,A,abc\nX3,c,A,0\n", "bill.csv")
    assert messages == [
        "第 1 行：金额最多保留两位小数。",
        "第 2 行：金额无效。",
        "第 3 行：金额须大于 0。",
    ]


def test_amounts_in_a_csv_are_read_as_the_amount_field_reads_them():
    data = 'X1,a,A,"1,234.56"\nX2,b,A,１２３．４\nX3,c,A,1e5\nX4,d,A,1_000\n'.encode()
    messages = _refusal(data, "bill.csv")
    assert messages == ["第 3 行：金额无效。", "第 4 行：金额无效。"]
    items = parse_bill(_upload('X1,a,A,"1,234.56"\nX2,b,A,１２３．４\n'.encode(), "b.csv"))
    assert [i["amount"] for i in items] == ["1234.56", "123.40"]
