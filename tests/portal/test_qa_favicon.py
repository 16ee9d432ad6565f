"""Every page names a favicon served from the project's own static files (no CDN; the CSP's
img-src 'self' allows it), so browsers stop asking for a missing /favicon.ico."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db
ICON = '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">'


def test_the_favicon_is_a_static_file_of_the_project():
    found = finders.find("img/favicon.svg")
    assert found
    with open(found, encoding="utf-8") as svg:
        assert svg.read().startswith("<svg")


def test_the_portals_pages_link_the_favicon(client):
    page = client.get(reverse("account_login"))
    assert ICON in page.content.decode()
    assert "'self'" in page["Content-Security-Policy"].split("img-src", 1)[1].split(";")[0]


def test_the_admins_pages_link_the_favicon(client, demo):
    client.force_login(demo["agency_shenyang"])
    assert ICON in client.get(reverse("admin:index")).content.decode()


def test_favicon_ico_leads_to_the_projects_icon(client):
    """Browsers ask for /favicon.ico on pages that link no icon (the API docs, a PDF)."""
    from django.templatetags.static import static

    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("img/favicon.svg")
