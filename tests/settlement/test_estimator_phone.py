"""The estimator's answer reads on a phone: one card per way of filing, each cell on a line of
its own after its column's name, instead of five columns of which the reasons got 55 pixels and
broke every two or three characters (5,050 pixels of page for four rows)."""

import pytest

from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

QUERY = "region=460200&level=3&care_type=inpatient&estimated_total=10000"
CELLS = """() => [...document.querySelectorAll('#estimate tbody tr')].map(tr => ({
  row: tr.getBoundingClientRect().width,
  cells: [...tr.children].map(c => ({
    width: c.getBoundingClientRect().width,
    label: getComputedStyle(c, '::before').content,
  })),
}))"""


@pytest.mark.parametrize("width", [375, 1280])
def test_the_estimators_answer_is_one_card_a_row_on_a_phone(live_server, demo, width):
    with browser_page(width, 800) as page:
        sign_in(page, live_server.url, "wangxiulan")
        page.goto(f"{live_server.url}/settlement/estimate/?{QUERY}")
        rows = page.evaluate(CELLS)
    assert len(rows) >= 3
    for row in rows:
        heading, *cells = row["cells"]
        if width == 375:  # every cell the card's whole width, after its column's name
            assert all(c["width"] >= 0.9 * row["row"] for c in row["cells"]), row
            assert all(c["label"] not in ("none", "normal", "") for c in cells), row
        else:  # a table: the cells share the row
            assert sum(c["width"] for c in row["cells"]) <= row["row"] + 1, row
            assert all(c["label"] in ("none", "normal") for c in cells), row
