"""Money as text, one way everywhere (SPEC §6.4): amounts are Decimals, never floats."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import FieldError

# The largest amount a money column (max_digits=14, decimal_places=2) holds.
MONEY_LIMIT = Decimal("999999999999.99")


# What surrounds or separates the digits of an amount as people type it: spaces (also the
# ideographic one), thousands separators (also "，"), the currency sign (¥/￥) and 元 / RMB.
AMOUNT_NOISE = re.compile(r"[\s,'_¥]|^RMB|^CNY|元$", re.IGNORECASE)


def normalize_amount(value: Any) -> str:
    """An amount as typed → plain digits: 全角 → 半角 (NFKC: "１２３．５" → "123.5"), no spaces,
    thousands separators, ¥ or 元; a leading "−" or "－" is a minus. Used by ``clean_money``, so by
    every form, the API and the import."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    text = re.sub(r"^[\u2010-\u2015\u2212]", "-", text)
    return AMOUNT_NOISE.sub("", text)


def clean_money(value: Any, label: str) -> Decimal:
    """An amount of money: a number ≥ 0 with at most two decimals (never a float).

    Empty is 0.00; ``"1,200"``, ``"１２００"`` and ``"¥1 200元"`` are accepted
    (``normalize_amount``); the message names the field (``label``)."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, str):
        value = normalize_amount(value)
        if not value:
            return Decimal("0.00")
    try:
        amount = Decimal(str(value).strip())
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
