"""Money as text, one way everywhere (SPEC §6.4): amounts are Decimals, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import FieldError

# The largest amount a money column (max_digits=14, decimal_places=2) holds.
MONEY_LIMIT = Decimal("999999999999.99")


def clean_money(value: Any, label: str) -> Decimal:
    """An amount of money: a number ≥ 0 with at most two decimals (never a float).

    Empty is 0.00; ``"1,200"`` is accepted; the message names the field (``label``)."""
    if value is None or value == "":
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise FieldError(f"{label}必须是数字") from None
    if not amount.is_finite():
        raise FieldError(f"{label}必须是数字")
    if amount < 0:
        raise FieldError(f"{label}不能为负数")
    if amount > MONEY_LIMIT:
        raise FieldError(f"{label}过大")
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError(f"{label}最多两位小数")
    return amount.quantize(Decimal("0.01"))


def money_json(value) -> str:
    """The API's form: ``Decimal("500000")`` → ``"500000.00"``."""
    return f"{Decimal(str(value)):.2f}"


def money_display(value) -> str:
    """The pages' form: ``500000`` → ``500,000.00`` ("" for none; other text unchanged)."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return str(value)
