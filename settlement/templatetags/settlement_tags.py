from django import template

from settlement.messages import ITEM_CLASSES

register = template.Library()


@register.filter
def item_class(code: str) -> str:
    """A bill item's class in words (甲类, 乙类, 自费); an unknown code as it is."""
    return str(ITEM_CLASSES.get(code, code))
