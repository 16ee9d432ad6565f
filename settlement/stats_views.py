"""The agency dashboard (issue 9, Statistics): charts, the tables beside them and CSV exports.

Agency staff see their own region (as place of insurance and of treatment); superusers see every
region or one chosen with ?region=CODE; everyone else gets a 404.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.http import urlencode

from portal.middleware import export
from portal.models import Region
from settlement import stats


def _region(request: HttpRequest) -> Region | None:
    try:
        return stats.region_for(request.user, request.GET.get("region") or None)
    except stats.NotAllowed:
        raise Http404 from None


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    region = _region(request)
    board = stats.build_dashboard(region=region)
    query = f"?{urlencode({'region': region.code})}" if request.user.is_superuser and region else ""
    headline = board.headline
    return render(
        request,
        "settlement/dashboard.html",
        {
            "board": board,
            "region": region,
            "regions": Region.objects.all() if request.user.is_superuser else [],
            "headline": headline,
            "headline_text": stats.headline_text(headline),
            "fund_text": stats.large_yuan(headline.fund_pay),
            "total_text": stats.large_yuan(headline.total),
            "period_from": stats.month_label(board.months[0]),
            "period_to": stats.month_label(board.months[-1]),
            "nothing_yet": not (
                headline.settlements or headline.filings or headline.claims_decided
            ),
            "items": [
                {
                    "chart": chart,
                    "data": chart.as_json(),
                    "data_id": f"chart-data-{chart.slug}",
                    "query": query,
                }
                for chart in board.charts
            ],
        },
    )


@export
@login_required
def dashboard_csv(request: HttpRequest, chart: str) -> HttpResponse:
    """One chart's numbers as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese)."""
    region = _region(request)
    if chart not in stats.CHART_SLUGS:
        raise Http404
    board = stats.build_dashboard(region=region)
    found = board.chart(chart)
    if found is None:
        raise Http404
    scope = region.code if region is not None else "all"
    today = formats.date_format(timezone.localdate(), "Ymd")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{chart}-{scope}-{today}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(found.csv_header())
    writer.writerows(found.csv_rows())
    return response
