"""A second submit of a form while the first is on its way (a double click, an impatient tap on
a slow phone) is not sent (static/js/portal.js); after a few seconds it can be sent again."""

import pytest

from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TWO_SUBMITS = """async () => {
  const form = document.querySelector('main form');
  const seen = [];
  window.addEventListener('submit', e => { seen.push(e.defaultPrevented); e.preventDefault(); });
  const submit = () => form.dispatchEvent(new Event('submit', {bubbles: true, cancelable: true}));
  submit();
  submit();
  form.setAttribute('data-sent-at', String(Date.now() - 5000));  // as if sent 5 s ago
  submit();
  return seen;
}"""


def test_a_second_submit_on_its_heels_is_not_sent(live_server, demo):
    with browser_page(390, 844) as page:
        sign_in(page, live_server.url, "chenming")
        page.goto(f"{live_server.url}/filings/new/temporary/")
        # first: sent; second, at once: held back; third, 5 s later: sent.
        assert page.evaluate(TWO_SUBMITS) == [False, True, False]
