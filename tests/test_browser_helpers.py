"""The shared browser checks can fail: a page wider than a phone is caught."""

from tests.browser import browser_page, no_horizontal_scroll


def test_no_horizontal_scroll_catches_a_page_wider_than_the_phone():
    with browser_page() as page:
        page.set_content('<meta name="viewport" content="width=device-width"><p>fits</p>')
        assert no_horizontal_scroll(page)
        page.set_content(
            '<meta name="viewport" content="width=device-width">'
            '<div style="width:600px">too wide</div>'
        )
        assert not no_horizontal_scroll(page)
