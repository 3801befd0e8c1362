"""Money as text, one way everywhere (SPEC §6.4): amounts are Decimals, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


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
