"""Placeholder: being written."""

from django.http import Http404


def dashboard(request, *args, **kwargs):
    raise Http404


def dashboard_csv(request, *args, **kwargs):
    raise Http404
