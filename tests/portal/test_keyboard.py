"""What axe-core does not see: where the keyboard is and what a screen reader is told after an
action. A clerk tabs through the desk check all day, a retiree on a phone signs in with a screen
reader, a reviewer tabs through queues."""

from __future__ import annotations

import pytest

from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACTIVE_STYLE = """() => {
  const e = document.activeElement;
  const s = getComputedStyle(e);
  return {inNav: e.closest('nav.portal-nav') !== null, outline: s.outlineStyle,
          width: parseFloat(s.outlineWidth), color: s.outlineColor};
}"""


def test_the_first_tab_offers_a_skip_link_to_the_main_content(live_server, demo):
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "wangxiulan")
        page.goto(f"{live_server.url}/filings/")
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "[document.activeElement.textContent, document.activeElement.getAttribute('href')]"
        )
        assert focused == ["跳到主要内容", "#main"]
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"


def test_focus_is_drawn_on_the_menu_bar_and_on_form_fields(live_server, demo):
    """Bootstrap's ring is 1.1:1 on the blue bar and the fields' grey border outranked its focus
    border: a solid outline now, white on the bar, dark blue on the fields."""
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "hosp_h23010300001")
        page.goto(f"{live_server.url}/")  # no field takes the focus first
        seen = []
        for _ in range(4):  # the skip link, the brand, then the menu's links
            page.keyboard.press("Tab")
            seen.append(page.evaluate(ACTIVE_STYLE))
        in_nav = [s for s in seen if s["inNav"]]
        assert len(in_nav) >= 2
        for style in in_nav:
            assert style["outline"] == "solid" and style["width"] >= 2, style
            assert style["color"] == "rgb(255, 255, 255)", style
        page.goto(f"{live_server.url}/hospitals/check/")  # the ID field has the focus
        field = page.evaluate(ACTIVE_STYLE)
        assert field["outline"] == "solid" and field["width"] >= 2
        assert field["color"] == "rgb(10, 88, 202)"


def test_a_wrong_password_is_announced_and_focused(live_server, demo):
    with browser_page(390, 844) as page:
        page.goto(f"{live_server.url}/accounts/login/")
        label = page.locator("label[for=id_login]").inner_text()
        assert "用户名或电子邮箱" in label  # not "登录", the page's and the button's word
        page.fill("input[name=login]", "wangxiulan")
        page.fill("input[name=password]", "wrong-password")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        alert = page.locator("main [role=alert]").first
        assert "不正确" in alert.inner_text()
        assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"


def test_a_check_box_groups_error_links_to_its_first_box_and_describes_each(live_server, demo):
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "chenming")
        page.goto(f"{live_server.url}/filings/new/temporary/")
        page.uncheck("input[name=care]") if page.locator(
            "input[name=care]:checked"
        ).count() else None
        for box in page.locator("input[name=care]:checked").all():
            box.uncheck()
        page.click("main form button[name=submit]")
        page.wait_for_load_state()
        href = page.locator(".form-errors-summary a", has_text="备案就医类型").get_attribute("href")
        assert href != "#" and page.locator(href).count() == 1
        described = page.locator("input[name=care]").first.get_attribute("aria-describedby")
        assert described and page.locator(f"#{described.split()[0]}").count() == 1


def test_the_menu_button_is_named_with_its_unread_count(live_server, demo):
    from portal.models import Notification

    with browser_page(390, 844) as page:
        sign_in(page, live_server.url, "wangxiulan")
        person = demo["wangxiulan"]
        if not Notification.objects.filter(user=person, read_at__isnull=True).exists():
            Notification.objects.create(user=person, subject="备案状态已更新", body="-")
        page.goto(f"{live_server.url}/filings/")
        toggler = page.locator(".navbar-toggler")
        assert toggler.get_attribute("aria-label") is None
        name = " ".join(toggler.inner_text().split()) or toggler.evaluate("e => e.textContent")
        text = " ".join(toggler.evaluate("e => e.textContent").split())
        assert "菜单" in text and "条未读消息" in text
        assert name


def test_the_desk_checks_verdict_is_spoken_while_the_id_field_keeps_the_focus(live_server, demo):
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "hosp_h23010300001")
        page.goto(f"{live_server.url}/hospitals/check/")
        page.fill("#id_id_number", "232721197811200177")
        page.fill("#id_name", "张伟")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        for _ in range(30):  # portal.js fills it a moment after the page is up
            if page.evaluate("() => document.getElementById('verdict-live').textContent"):
                break
            page.wait_for_timeout(100)
        spoken = page.locator("#verdict-live[role=status]").text_content()
        assert spoken == page.locator("[data-verdict]").inner_text().lstrip("✔✘ ").strip()
        assert page.evaluate("document.activeElement.id") == "id_id_number"
