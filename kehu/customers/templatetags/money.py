"""``{{ amount|money }}``: an amount as the pages show it (``500,000.00``), through
``kehu.core.money.money_display``."""

from django import template

from kehu.core.money import money_display

register = template.Library()


@register.filter
def money(value) -> str:
    return money_display(value)
