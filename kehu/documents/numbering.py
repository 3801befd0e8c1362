"""Document numbers like the seed's: prefix + local time to the second + random digits
(``HT20260126120003`` + ``4817``), unique under concurrency and never reused."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.core.errors import ApplicationError

from .models import IssuedNumber

ATTEMPTS = 8


def issue_number(prefix: str, doc_type: str) -> str:
    """A number no document ever had: recorded in :class:`IssuedNumber` (unique), retried with
    fresh random digits when two requests draw the same one in the same second."""
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    for _ in range(ATTEMPTS):
        number = f"{prefix}{stamp}{secrets.randbelow(10_000):04d}"
        try:
            with transaction.atomic():
                IssuedNumber.objects.create(number=number, doc_type=doc_type)
        except IntegrityError:
            continue
        return number
    raise ApplicationError("单号生成繁忙，请稍后重试", status=409, code="number_busy")
