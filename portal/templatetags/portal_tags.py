from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (bookmarkable filters); a
    parameter given None or "" is left out (a filter's "all", a list back on its first page)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


@register.simple_tag(takes_context=True)
def page_query(context, param: str, number) -> str:
    """The current query string on page `number` of the list paged by `param` (a page with
    two lists pages each by its own parameter)."""
    return query_with(context, **{param: number})


# The colour of a claim's or settlement's state, alike on every page that shows one.
STATE_BADGES = {
    "approved": "bg-success",
    "paid": "bg-success",
    "settled": "bg-success",
    "voided": "bg-secondary",
    "returned": "bg-warning text-dark",
    "rejected": "bg-danger",
}


@register.filter
def state_badge(status: str) -> str:
    """Bootstrap classes of a claim's or settlement's state badge (waiting states: info)."""
    return STATE_BADGES.get(status, "bg-info text-dark")


@register.filter
def yuan(value) -> str:
    """An amount as a person reads it: two decimals and thousands grouped ("150,345.58"), in
    either language. Not for the API or CSV, which keep "150345.58"."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)
