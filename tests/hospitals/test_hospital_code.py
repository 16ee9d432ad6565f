"""A hospital's national code is "H" and 11 digits: the admin's form and the import refuse any
other (a "/" in one made the public directory a server error for everyone), the directory lists
whatever the database holds without failing, and the directory export never writes a code or a
name as a formula (CSV and TSV behind an apostrophe, XLSX as text cells without one)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hospitals.models import HOSPITAL_CODE, Hospital
from portal.models import Region
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

BAD_CODES = [
    "=cmd|'/C calc'!A0",
    "H2327/000001",
    "H2327000001",
    "h23270000001",
    "H２３２７００００００１",
]
FORMULA = "=2+5"


@pytest.mark.parametrize("code", BAD_CODES + ["H23270000001\n", ""])
def test_a_code_other_than_h_and_11_digits_is_not_a_hospital_code(code):
    with pytest.raises(ValidationError):
        HOSPITAL_CODE(code)


@pytest.mark.parametrize("code", ["H2327/000001", "H23270000001\n"])
def test_the_model_refuses_a_code_other_than_h_and_11_digits_whoever_saves_it(demo, code):
    """Not only the admin's form and the import: any code that cleans the hospital it saves."""
    hospital = Hospital.objects.filter(region__code="232700").first()
    hospital.pk, hospital.code = None, code
    with pytest.raises(ValidationError) as refused:
        hospital.full_clean()
    assert list(refused.value.error_dict) == ["code"]
    hospital.code = "H23279999999"
    hospital.full_clean()


def test_every_code_of_the_directory_data_is_h_and_11_digits():
    data = Path(settings.BASE_DIR) / "hospitals" / "data" / "designated_hospitals.csv"
    with data.open(encoding="utf-8-sig") as f:
        codes = [row["code"] for row in csv.DictReader(f)]
    assert len(codes) > 20
    for code in codes:
        HOSPITAL_CODE(code)


def _add_form(dxal: Region, code: str) -> dict:
    return {
        "code": code,
        "name": "大兴安岭新院",
        "province": dxal.province_id,
        "region": dxal.pk,
        "level": 2,
        "kind": "general",
        "ownership": "public",
        "inpatient": "on",
    }


@pytest.mark.parametrize("code", BAD_CODES)
def test_the_admin_refuses_a_hospital_code_of_another_form(client, demo, code):
    dxal = Region.objects.get(code="232700")
    staff_login(client, "agency_dxal")
    response = client.post(
        reverse("admin:hospitals_hospital_add") + "?lang=en", _add_form(dxal, code)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "code" in errors and "the letter H and 11 digits" in str(errors["code"])
    assert not Hospital.objects.filter(name="大兴安岭新院").exists()


def test_the_admin_takes_a_code_of_h_and_11_digits(client, demo):
    dxal = Region.objects.get(code="232700")
    staff_login(client, "agency_dxal")
    response = client.post(reverse("admin:hospitals_hospital_add"), _add_form(dxal, "H23270000091"))
    assert response.status_code == 302
    assert Hospital.objects.get(code="H23270000091").region == dxal


HEADER = (
    "code,name_zh,name_en,province,region_code,level,kind,ownership,"
    "inpatient,general_outpatient,chronic_outpatient,resettlement_designated"
)


def test_an_import_row_with_a_code_of_another_form_is_refused_and_nothing_is_written(client, demo):
    staff_login(client, "agency_dxal")
    url = reverse("admin:hospitals_hospital_import")
    form = client.get(url).context["form"]
    csv_choice = next(v for v, label in form.fields["format"].choices if label == "csv")
    rows = [
        "H23270000091,大兴安岭新医院,,黑龙江省,232700,2,general,public,1,1,0,0",
        "H2327/000002,大兴安岭另一医院,,黑龙江省,232700,2,general,public,1,1,0,0",
    ]
    upload = SimpleUploadedFile("h.csv", "\n".join([HEADER, *rows]).encode(), "text/csv")
    before = Hospital.objects.count()
    response = client.post(url, {"resource": "0", "format": csv_choice, "import_file": upload})
    result = response.context["result"]
    (invalid,) = result.invalid_rows
    assert invalid.number == 2 and "code" in invalid.error_dict
    assert 'name="import_file_name"' not in response.content.decode()
    assert Hospital.objects.count() == before


def _odd_hospital(code: str) -> Hospital:
    """A hospital as it may already be stored (made before codes were checked)."""
    model = Hospital.objects.filter(region__code="232700").first()
    model.pk, model.code, model.name, model.name_en = None, code, "旧编码医院", "Old code hospital"
    model.save()
    return model


@pytest.mark.parametrize("query", [{}, {"region": "232700"}, {"q": "旧编码"}])
def test_the_directory_lists_a_hospital_whose_code_no_page_can_have(client, demo, query):
    _odd_hospital("=cmd|'/C calc'!A0")
    response = client.get(reverse("hospitals:directory"), {**query, "page_size": 100})
    assert response.status_code == 200
    page = response.content.decode()
    assert "旧编码医院" in page
    if "q" not in query:  # the other hospitals keep their links
        assert 'href="/hospitals/H23270000001/"' in page


def _export(client, file_format: str) -> bytes:
    page = client.get(reverse("admin:hospitals_hospital_export"))
    choice = next(
        v for v, label in page.context["form"].fields["format"].choices if label == file_format
    )
    names = ["code", "name", "name_en", "province", "region", "level", "kind", "ownership"]
    response = client.post(
        reverse("admin:hospitals_hospital_export"),
        {"format": choice, "resource": "0", **{f"hospitalresource_{n}": "on" for n in names}},
    )
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize(("file_format", "delimiter"), [("csv", ","), ("tsv", "\t")])
def test_a_code_like_a_formula_is_plain_text_in_the_csv_and_tsv_export(
    client, demo, file_format, delimiter
):
    _odd_hospital(FORMULA)
    staff_login(client, "admin")
    text = _export(client, file_format).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    row = next(r for r in rows if "旧编码医院" in r)
    assert row[0] == "'" + FORMULA
    assert not [cell for r in rows for cell in r if cell.startswith(("=", "+", "-", "@"))]
    assert any(r[0] == "H23010300001" for r in rows)  # a code as it is, without an apostrophe


def test_a_code_or_a_name_like_a_formula_is_a_text_cell_without_an_apostrophe_in_the_xlsx(
    client, demo
):
    from openpyxl import load_workbook

    odd = _odd_hospital(FORMULA)
    Hospital.objects.filter(pk=odd.pk).update(name_en="-2+3")
    staff_login(client, "admin")
    book = load_workbook(io.BytesIO(_export(client, "xlsx")))
    sheet = book.active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    code = next(c for c in cells if c.value == FORMULA)
    assert code.data_type == "s" and code.quotePrefix
    name = next(c for c in cells if c.value == "-2+3")
    assert name.data_type == "s" and name.quotePrefix
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith("'")]
    plain = next(c for c in cells if c.value == "H23010300001")
    assert not plain.quotePrefix
    level = sheet.cell(row=plain.row, column=[h.value for h in sheet[1]].index("level") + 1)
    assert level.data_type == "n"  # numbers stay numbers
