"""The agency dashboard (issue 9, Statistics): figures, scoping, CSV, queries, CSP, seed."""

from __future__ import annotations

import csv
import datetime
import io
import random
import re
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from io import StringIO
from types import SimpleNamespace

import pytest
from allauth.account.internal.flows.login import record_authentication
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from filings.models import Filing
from hospitals.models import Hospital, HospitalStaff
from portal.lib import idnumbers
from portal.models import InsuredPerson
from settlement import demo as settlement_demo
from settlement import stats
from settlement.models import AnnualAccumulation, Claim, Settlement
from tests.portal.factories import (
    AgencyFactory,
    AgencyStaffFactory,
    InsuredPersonFactory,
    ProvinceFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SLUGS = stats.CHART_SLUGS


# --- a small world ----------------------------------------------------------------------------


@pytest.fixture
def world(db):
    hlj = ProvinceFactory(code="230000", name="黑龙江省", name_en="Heilongjiang")
    hainan = ProvinceFactory(code="460000", name="海南省", name_en="Hainan")
    regions = {
        "232700": RegionFactory(
            code="232700", name="大兴安岭地区", name_en="Daxinganling", province=hlj
        ),
        "230100": RegionFactory(code="230100", name="哈尔滨市", name_en="Harbin", province=hlj),
        "460200": RegionFactory(code="460200", name="三亚市", name_en="Sanya", province=hainan),
    }
    hospitals = {
        code: Hospital.objects.create(
            code=f"H{code}00001",
            name=f"{region.name}人民医院",
            province=region.province,
            region=region,
            level=3,
            kind="general",
            ownership="public",
        )
        for code, region in regions.items()
    }
    persons = {
        code: InsuredPersonFactory(region=region, user=None, name="统计测试")
        for code, region in regions.items()
    }
    staff = {
        code: AgencyStaffFactory(
            agency=AgencyFactory(region=region), user__username=f"agency{code}"
        )
        for code, region in regions.items()
    }
    return {"regions": regions, "hospitals": hospitals, "persons": persons, "staff": staff}


def _amounts(rng: random.Random) -> tuple[Decimal, Decimal]:
    """(total, fund) in quarters of a yuan: exact in floats too, for SQLite's check that
    fund + person = total."""
    quarters = rng.randint(4_000, 80_000)
    return Decimal(quarters) / 4, Decimal(rng.randint(0, quarters)) / 4


def make_settlements(world, n: int, *, seed: int = 7, statuses=None) -> list[Settlement]:
    """n settlements across every pair of the three regions, over the last 15 months."""
    rng = random.Random(seed)
    today = timezone.localdate()
    statuses = statuses or [Settlement.Status.SETTLED] * 8 + [
        Settlement.Status.HELD,
        Settlement.Status.REJECTED,
    ]
    codes = list(world["regions"])
    rows = []
    for i in range(n):
        insured, treated = rng.sample(codes, 2)
        total, fund = _amounts(rng)
        discharged = today - datetime.timedelta(days=rng.randint(0, 460))
        rows.append(
            Settlement(
                number=f"JST{seed:03d}{i:06d}",
                hospital=world["hospitals"][treated],
                person=world["persons"][insured],
                insured_region=world["regions"][insured],
                request_hash="x",
                category="referral",
                policy_year=discharged.year,
                care_type="inpatient",
                admitted_on=discharged - datetime.timedelta(days=3),
                discharged_on=discharged,
                total=total,
                fund_pay=fund,
                person_pay=total - fund,
                status=rng.choice(statuses),
            )
        )
    return Settlement.objects.bulk_create(rows)


def expected(rows: list[Settlement], region_code: str | None):
    """The dashboard's settlement figures computed independently, in plain Python."""
    months = stats.month_starts(timezone.localdate())
    since = months[0]
    counted = [
        s for s in rows if s.status == Settlement.Status.SETTLED and s.discharged_on >= since
    ]
    by_side = defaultdict(lambda: {"count": defaultdict(int), "fund": defaultdict(Decimal)})
    treatment = defaultdict(lambda: [0, Decimal("0"), Decimal("0")])
    insurance = defaultdict(lambda: [0, Decimal("0"), Decimal("0")])
    for s in counted:
        insured = s.insured_region.code
        treated = s.hospital.region.code
        month = s.discharged_on.replace(day=1)
        if region_code is None:
            side = "all"
        elif insured == region_code:
            side = "insured"
        elif treated == region_code:
            side = "treated"
        else:
            continue
        by_side[side]["count"][month] += 1
        by_side[side]["fund"][month] += s.fund_pay
        if region_code is None or insured == region_code:
            treatment[treated][0] += 1
            treatment[treated][1] += s.fund_pay
            treatment[treated][2] += s.total
        if region_code is None or treated == region_code:
            insurance[insured][0] += 1
            insurance[insured][1] += s.fund_pay
            insurance[insured][2] += s.total
    return months, by_side, treatment, insurance


def sign_in(client, user) -> None:
    """Signed in just now: the CSV exports ask for a recent authentication (the middleware)."""
    client.force_login(user)
    session = client.session
    record_authentication(SimpleNamespace(session=session), user, "password")
    session.save()


def _dashboard(client, user, **params):
    sign_in(client, user)
    return client.get(reverse("settlement:dashboard"), params)


def _check_against(board: stats.Dashboard, rows, region_code):
    months, by_side, treatment, insurance = expected(rows, region_code)
    sides = ["insured", "treated"] if region_code else ["all"]
    per_month = board.chart("settlements-by-month")
    fund_month = board.chart("fund-by-month")
    assert [s.key for s in per_month.series] == sides
    for series in per_month.series:
        assert series.values == [by_side[series.key]["count"][m] for m in months]
    for series in fund_month.series:
        assert series.values == [by_side[series.key]["fund"][m] for m in months]
    for slug, figures in (
        ("by-place-of-treatment", treatment),
        ("by-place-of-insurance", insurance),
    ):
        chart = board.chart(slug)
        assert chart.keys == sorted(figures)
        assert chart.series[0].values == [figures[k][0] for k in chart.keys]
        assert chart.series[1].values == [figures[k][1] for k in chart.keys]
        assert chart.series[2].values == [figures[k][2] for k in chart.keys]
    count = sum(sum(v["count"].values()) for v in by_side.values())
    fund = sum((sum(v["fund"].values(), Decimal("0")) for v in by_side.values()), Decimal("0"))
    assert board.headline.settlements == count
    assert board.headline.fund_pay == fund
    assert count > 0


# --- figures ----------------------------------------------------------------------------------


def test_agency_dashboard_figures_equal_independent_sums_over_generated_data(client, world):
    rows = make_settlements(world, 300)
    response = _dashboard(client, world["staff"]["232700"].user)
    assert response.status_code == 200
    _check_against(response.context["board"], rows, "232700")


def test_superuser_sees_every_region_or_the_one_chosen(client, world):
    rows = make_settlements(world, 300)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    everything = _dashboard(client, admin)
    _check_against(everything.context["board"], rows, None)
    sanya = client.get(reverse("settlement:dashboard"), {"region": "460200"})
    _check_against(sanya.context["board"], rows, "460200")
    assert 'value="460200" selected' in sanya.content.decode()
    assert client.get(reverse("settlement:dashboard"), {"region": "999999"}).status_code == 404


def test_held_rejected_and_older_settlements_are_not_counted(client, world):
    make_settlements(world, 40, statuses=[Settlement.Status.HELD, Settlement.Status.REJECTED])
    board = _dashboard(client, world["staff"]["230100"].user).context["board"]
    assert board.headline.settlements == 0
    assert board.chart("settlements-by-month").empty


def test_headline_reads_like_the_seed_line_and_is_localized(client, world):
    headline = stats.Headline(1251, Decimal("0"), Decimal("10910000.00"), 0, 0, 0, 0, 0, None)
    with translation.override("en"):
        assert stats.headline_text(headline) == "1,251 direct settlements, 10.91 million yuan"
    make_settlements(world, 60)
    sign_in(client, world["staff"]["232700"].user)
    response = client.get(reverse("settlement:dashboard"), {"lang": "en"})
    with translation.override("en"):
        text = stats.headline_text(response.context["headline"])
    assert text in response.content.decode()


def test_filings_by_type_and_state_per_month(client, world):
    now = timezone.now()
    dxal, harbin = world["regions"]["232700"], world["regions"]["230100"]
    person = world["persons"]["232700"]
    specs = [
        ("referral", "approved", 0),
        ("referral", "submitted", 0),
        ("long_term", "approved", 40),
        ("temporary", "rejected", 40),
        ("temporary", "approved", 500),  # before the window
        ("referral", "draft", None),  # never submitted
    ]
    for i, (kind, status, days_ago) in enumerate(specs):
        Filing.objects.create(
            number=f"BA{i:04d}",
            person=person,
            insured_region=dxal,
            type=kind,
            status=status,
            place_province=harbin.province,
            place_region=harbin,
            submitted_at=None if days_ago is None else now - datetime.timedelta(days=days_ago),
        )
    months = stats.month_starts()
    this_month = months.index(timezone.localdate().replace(day=1))
    board = _dashboard(client, world["staff"]["232700"].user).context["board"]
    by_type = {s.key: s.values for s in board.chart("filings-by-type").series}
    assert by_type["referral"][this_month] == 2
    assert sum(by_type["referral"]) == 2
    assert sum(by_type["long_term"]) == 1 and sum(by_type["temporary"]) == 1
    by_state = {s.key: s.values for s in board.chart("filings-by-state").series}
    assert sum(by_state["approved"]) == 2 and sum(by_state["rejected"]) == 1
    assert "draft" not in by_state
    assert board.headline.filings == 4
    # Harbin is the place of treatment: it sees them as incoming, not as its own.
    harbin_board = _dashboard(client, world["staff"]["230100"].user).context["board"]
    assert harbin_board.headline.filings == 0
    assert harbin_board.headline.filings_incoming == 4


def _claim(world, number: str, region: str, days: int, status: str = "approved") -> Claim:
    decided = timezone.now() - datetime.timedelta(hours=1)
    return Claim.objects.create(
        number=number,
        person=world["persons"][region],
        insured_region=world["regions"][region],
        hospital=world["hospitals"]["230100"],
        care_type="inpatient",
        admitted_on=datetime.date(2026, 1, 1),
        discharged_on=datetime.date(2026, 1, 5),
        category="referral",
        policy_year=2026,
        total=Decimal("100.00"),
        estimated_fund_pay=Decimal("50.00"),
        status=status,
        submitted_at=decided - datetime.timedelta(days=days),
        decided_at=None if status == "submitted" else decided,
    )


def test_claims_turnaround_median_and_average_days(client, world):
    for i, days in enumerate([1, 2, 12]):
        _claim(world, f"BX{i:04d}", "232700", days, "approved" if i != 1 else "rejected")
    earlier = _claim(world, "BX0003", "232700", 30)
    earlier.decided_at -= datetime.timedelta(days=40)
    earlier.submitted_at -= datetime.timedelta(days=40)
    earlier.save()
    _claim(world, "BX0010", "232700", 30, "submitted")  # not decided yet
    _claim(world, "BX0011", "460200", 50)  # another region's claim
    board = _dashboard(client, world["staff"]["232700"].user).context["board"]
    chart = board.chart("claims-turnaround")
    months = stats.month_starts()
    month = months.index(timezone.localdate().replace(day=1))
    before = months.index(timezone.localdate(earlier.decided_at).replace(day=1))
    series = {s.key: s.values for s in chart.series}
    assert series["decided"][month] == 3
    assert series["median"][month] == Decimal("2.0")
    assert series["average"][month] == Decimal("5.0")
    assert series["decided"][before] == 1 and series["median"][before] == Decimal("30.0")
    assert sum(series["decided"]) == 4
    # Over the whole year: the median of all four (not of the monthly medians).
    assert board.headline.claims_decided == 4
    assert board.headline.claims_median_days == Decimal("7.0")
    assert board.headline.claims_average_days == Decimal("11.3")


# --- scoping ----------------------------------------------------------------------------------


def test_an_agency_cannot_see_another_regions_figures(client, world):
    rows = make_settlements(world, 200)
    sanya_only = [
        s for s in rows if s.insured_region.code != "232700" and s.hospital.region.code != "232700"
    ]
    assert sanya_only
    user = world["staff"]["232700"].user
    assert _dashboard(client, user, region="460200").status_code == 404
    csv_url = reverse("settlement:dashboard-csv", args=["by-place-of-insurance"])
    assert client.get(csv_url, {"region": "460200"}).status_code == 404
    board = _dashboard(client, user).context["board"]
    # Harbin↔Sanya settlements involve neither side of Daxinganling: not in its figures.
    assert board.headline.settlements == len(
        [
            s
            for s in rows
            if s.status == "settled"
            and s.discharged_on >= stats.month_starts()[0]
            and "232700" in (s.insured_region.code, s.hospital.region.code)
        ]
    )
    places = board.chart("by-place-of-insurance").keys
    assert places and "232700" not in places  # only other regions' insured treated here


@pytest.mark.parametrize("who", ["insured", "hospital", "plain staff"])
def test_insured_persons_hospital_staff_and_others_get_404(client, world, who):
    if who == "insured":
        user = InsuredPersonFactory(region=world["regions"]["232700"]).user
    elif who == "hospital":
        user = UserFactory(username="hosp")
        HospitalStaff.objects.create(user=user, hospital=world["hospitals"]["230100"])
    else:
        user = UserFactory(username="clerk", is_staff=True)
    sign_in(client, user)
    assert client.get(reverse("settlement:dashboard")).status_code == 404
    url = reverse("settlement:dashboard-csv", args=["fund-by-month"])
    assert client.get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get(reverse("settlement:dashboard"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    csv_response = client.get(reverse("settlement:dashboard-csv", args=["fund-by-month"]))
    assert csv_response.status_code == 302


# --- CSV --------------------------------------------------------------------------------------


def _parse(value: str):
    if value == "":
        return None
    return Decimal(value)


def test_csv_export_numbers_equal_the_chart_numbers(client, world):
    make_settlements(world, 150)
    user = world["staff"]["232700"].user
    board = _dashboard(client, user).context["board"]
    for slug in SLUGS:
        response = client.get(reverse("settlement:dashboard-csv", args=[slug]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        body = response.content.decode("utf-8")
        assert body.startswith("\ufeff")
        table = list(csv.reader(io.StringIO(body[1:])))
        chart = board.chart(slug)
        header, rows = table[0], table[1:]
        assert len(header) == (1 if chart.months else 2) + len(chart.series)
        assert len(rows) == len(chart.keys)
        width = 1 if chart.months else 2
        for row, key in zip(rows, chart.keys, strict=True):
            assert row[0] == (f"{key:%Y-%m}" if chart.months else key)
        for i, series in enumerate(chart.series):
            column = [_parse(row[width + i]) for row in rows]
            assert column == [None if v is None else Decimal(v) for v in series.values], slug


def test_csv_export_asks_for_a_recent_sign_in(client, world):
    client.force_login(world["staff"]["232700"].user)  # a session without a recent sign-in
    response = client.get(reverse("settlement:dashboard-csv", args=["fund-by-month"]))
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]


def test_csv_of_an_unknown_chart_is_404(client, world):
    sign_in(client, world["staff"]["232700"].user)
    url = reverse("settlement:dashboard-csv", args=["no-such-chart"])
    assert client.get(url).status_code == 404


# --- queries and page -------------------------------------------------------------------------


def test_dashboard_queries_do_not_grow_with_the_number_of_settlements(
    client, world, django_assert_max_num_queries
):
    user = world["staff"]["232700"].user
    sign_in(client, user)
    url = reverse("settlement:dashboard")
    make_settlements(world, 10, seed=1)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    make_settlements(world, 100, seed=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
    csv_url = reverse("settlement:dashboard-csv", args=["by-place-of-treatment"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(csv_url)


def test_selectors_make_one_query_each(world, django_assert_num_queries):
    make_settlements(world, 50)
    since = stats.month_starts()[0]
    region = world["regions"]["232700"]
    for selector in (
        stats.filing_counts,
        stats.settlement_months,
        stats.settlements_by_place_of_treatment,
        stats.settlements_by_place_of_insurance,
        stats.claim_turnaround,
        stats.claim_turnaround_overall,
    ):
        with django_assert_num_queries(1):
            selector(region=region, since=since)


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self._open: dict | None = None
        self._text = ""
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if tag == "script":
            self._open, self._text = attrs, ""

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.scripts.append((self._open, self._text))
            self._open = None


def test_page_has_no_inline_script_code_and_no_cdn(client, world):
    make_settlements(world, 30)
    response = _dashboard(client, world["staff"]["232700"].user)
    page = response.content.decode()
    parser = _Scripts()
    parser.feed(page)
    assert not parser.handlers
    sources = [attrs["src"] for attrs, _text in parser.scripts if "src" in attrs]
    assert any(src.endswith("vendor/chartjs/chart.umd.min.js") for src in sources)
    assert any(src.endswith("js/dashboard.js") for src in sources)
    assert all(not src.startswith(("http:", "https:", "//")) for src in sources)
    data = 0
    for attrs, text in parser.scripts:
        if "src" in attrs:
            assert not text.strip()
        else:
            assert attrs.get("type") == "application/json", text[:80]
            data += 1
    # One json_script per chart with something to draw.
    assert data == len([c for c in response.context["board"].charts if not c.empty]) > 0
    assert "<table" in page and "<caption" in page  # the tables beside the charts


def test_empty_states_when_there_is_nothing_to_count(client, world):
    page = _dashboard(client, world["staff"]["460200"].user).content.decode()
    assert 'role="status"' in page
    assert "<canvas" not in page


# --- the demo's history -----------------------------------------------------------------------


@pytest.fixture
def seeded(db) -> str:
    """The demo with its history (not the shared `demo` fixture, which may skip it)."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _accumulations() -> dict[tuple[int, int], tuple]:
    return {
        (a.person_id, a.year): (a.fund_paid, a.outpatient_deductible_paid)
        for a in AnnualAccumulation.objects.all()
    }


def test_seed_history_is_idempotent_and_leaves_the_demo_persons_alone(db):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    history = Settlement.objects.filter(number__startswith=settlement_demo.HISTORY_PREFIX)
    assert not history.exists()
    # As if an external check had settled a bill for a demo person already.
    wang = InsuredPerson.objects.get(user__username="wangxiulan")
    AnnualAccumulation.objects.create(
        person=wang, year=timezone.localdate().year, fund_paid=Decimal("1234.50")
    )
    before = _accumulations()
    demo_person_ids = set(
        InsuredPerson.objects.filter(user__isnull=False).values_list("id", flat=True)
    )

    assert settlement_demo.seed_history() == settlement_demo.HISTORY_COUNT
    assert history.count() == settlement_demo.HISTORY_COUNT
    assert not history.filter(person_id__in=demo_person_ids).exists()
    after = _accumulations()
    assert {k: v for k, v in after.items() if k[0] in demo_person_ids} == before
    assert all(k[0] not in demo_person_ids for k in after.keys() - before.keys())

    persons = InsuredPerson.objects.count()
    assert settlement_demo.seed_history() == 0
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert history.count() == settlement_demo.HISTORY_COUNT
    assert InsuredPerson.objects.count() == persons
    assert _accumulations() == after
    line = next(x for x in out.getvalue().splitlines() if x.startswith("Statistics:"))
    board = stats.build_dashboard(region=None)
    with translation.override("en"):
        assert line == f"Statistics: {stats.headline_text(board.headline)}"
    assert board.headline.settlements >= settlement_demo.HISTORY_COUNT


def test_seeded_history_spans_the_demo_pairs_with_genuine_id_numbers(seeded):
    assert re.search(r"^Statistics: [\d,]+ direct settlements, [\d,.]+ million yuan$", seeded, re.M)
    history = Settlement.objects.filter(number__startswith=settlement_demo.HISTORY_PREFIX)
    pairs = set(history.values_list("insured_region__code", "hospital__region__code").distinct())
    assert len(pairs) >= 5
    months = set(history.values_list("discharged_on", flat=True))
    assert min(months) >= stats.month_starts()[0]
    assert len({(d.year, d.month) for d in months}) >= 11  # all 12 unless today is the 1st
    synthetic = InsuredPerson.objects.filter(settlements__in=history).distinct()
    assert synthetic.count() <= len(settlement_demo.AREAS) * settlement_demo.PERSONS_PER_REGION
    # As in life, a person has one to a few stays a year, none of them over the annual cap.
    stays = history.values("person").annotate(n=Count("id")).aggregate(most=Max("n"))["most"]
    assert stays <= 10
    assert not [s for s in history.only("flags") if "over_annual_cap" in s.flags]
    assert all(idnumbers.problem(p.id_number) is None for p in synthetic)
    assert all(p.user_id is None for p in synthetic)
    # The engine's split, stored as the engine would: fund + person = total on every row.
    assert all(
        s.fund_pay + s.person_pay == s.total
        for s in history.only("total", "fund_pay", "person_pay")
    )


# --- in a browser -----------------------------------------------------------------------------


def test_charts_are_drawn_from_the_portals_own_scripts_under_its_csp(
    transactional_db, live_server, world, client, tmp_path
):
    from tests.browser import browser_page, no_horizontal_scroll

    make_settlements(world, 120)
    _claim(world, "BX0001", "232700", 3)
    sign_in(client, world["staff"]["232700"].user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    errors: list[str] = []
    with browser_page(1280, 900) as page:
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        page.goto(f"{live_server.url}{reverse('settlement:dashboard')}")
        canvases = page.locator("figure.dashboard-chart canvas")
        assert canvases.count() == 5  # every chart but the two of filings (there are none)
        for i in range(canvases.count()):
            box = canvases.nth(i).bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100
        # An axis of counts has whole-number ticks only (no 0.2 settlements).
        axes = page.evaluate(
            "() => Object.values(Chart.instances).flatMap(c => Object.values(c.scales)"
            ".filter(s => s.axis === 'y')"
            ".map(s => [s.options.title.text, s.ticks.map(t => t.value)]))"
        )
        with translation.override("zh-hans"):
            number = str(translation.gettext("Number"))
        counts = [ticks for title, ticks in axes if title == number]
        assert counts and all(float(v).is_integer() for ticks in counts for v in ticks), axes
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        page.set_viewport_size({"width": 375, "height": 812})
        # Chart.js redraws its canvases on the next frames after a resize: give it up to 15 s,
        # a busy machine included (polled from here: the page's CSP forbids the string
        # evaluation wait_for_function uses).
        for _ in range(150):
            if no_horizontal_scroll(page):
                break
            page.wait_for_timeout(100)
        assert no_horizontal_scroll(page), page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => "
            "e.getBoundingClientRect().right > 376).slice(0, 5).map(e => e.tagName + '.' + "
            "e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
        )
    assert not errors, errors
