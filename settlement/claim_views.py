"""Placeholder: being written."""

from django.http import Http404


def claim_list(request, *args, **kwargs):
    raise Http404


def claim_new(request, *args, **kwargs):
    raise Http404


def claim_detail(request, *args, **kwargs):
    raise Http404


def claim_resubmit(request, *args, **kwargs):
    raise Http404


def claim_document(request, *args, **kwargs):
    raise Http404
