"""账龄 (receivables ageing): the ONE definition the 首页 and the lists' 账龄 filter share.

What is open and since when (SPEC §6.3: a contract is billed when approved, a repair or
maintenance order when it reaches 待支付; an approved 回款 pays):

- an approved contract is open for its amount minus its approved 回款, aged from its 签约时间
  (its 审批通过时间 when no signing date was entered);
- a repair or maintenance order at 待支付 is open for its amount, aged from its 验收时间 (the
  moment it was billed).

Payment plans are not used: they are a schedule, not a bill, and a contract without a plan would
otherwise never age. Age in whole days = today − that date (Asia/Shanghai); the buckets are
0–30, 31–60, 61–90 and more than 90 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    low: int  # days, inclusive
    high: int | None  # days, inclusive; None = no upper bound

    def dates(self, today: date) -> tuple[date | None, date]:
        """(earliest, latest) start dates whose age falls in the bucket."""
        latest = today - timedelta(days=self.low)
        earliest = None if self.high is None else today - timedelta(days=self.high)
        return earliest, latest

    def q(self, field: str, today: date) -> Q:
        earliest, latest = self.dates(today)
        cond = Q(**{f"{field}__lte": latest})
        if earliest is not None:
            cond &= Q(**{f"{field}__gte": earliest})
        return cond


BUCKETS = (
    Bucket("0-30", "0–30 天", 0, 30),
    Bucket("31-60", "31–60 天", 31, 60),
    Bucket("61-90", "61–90 天", 61, 90),
    Bucket("90+", "90 天以上", 91, None),
)
CHOICES = [(b.key, b.label) for b in BUCKETS]
BY_KEY = {b.key: b for b in BUCKETS}
DEFINITION = (
    "账龄：已审批合同按签约日期（未填则按审批通过日期）起算，未收 = 合同金额 − 已审批回款；"
    "维修/保养订单在待支付状态按验收日期起算，未收 = 订单金额。"
)


def open_contracts(queryset: QuerySet) -> QuerySet:
    """Approved contracts of ``queryset`` with something left to collect, annotated with
    ``outstanding`` and ``aged_from`` (one query, a correlated sum of approved 回款)."""
    from kehu.documents.models import ApprovalStatus
    from kehu.sales.documents import approved_paid_of_contract

    paid = approved_paid_of_contract()
    return (
        queryset.filter(approval_status=ApprovalStatus.APPROVED)
        .annotate(
            paid_total=Coalesce(Subquery(paid, output_field=MONEY), Value(ZERO, MONEY)),
            outstanding=F("amount") - F("paid_total"),
            aged_from=Coalesce(TruncDate("signed_at"), TruncDate("approved_at")),
        )
        .filter(outstanding__gt=0)
    )


def open_service_orders(queryset: QuerySet) -> QuerySet:
    """Repair or maintenance orders of ``queryset`` billed and not paid (待支付)."""
    from kehu.aftersales.models import ServiceStatus

    return queryset.filter(status=ServiceStatus.AWAITING_PAYMENT).annotate(
        outstanding=F("amount"), aged_from=TruncDate("billed_at")
    )


def in_bucket(open_queryset: QuerySet, key: str, today: date) -> QuerySet:
    """The rows of an ``open_*`` queryset whose age falls in bucket ``key``."""
    return open_queryset.filter(BY_KEY[key].q("aged_from", today))


def summary(open_queryset: QuerySet, today: date) -> dict[str, dict]:
    """``{bucket key: {"count", "amount"}}`` of an ``open_*`` queryset in ONE query."""
    aggregates: dict[str, Any] = {}
    for b in BUCKETS:
        cond = b.q("aged_from", today)
        aggregates[f"n_{b.key}"] = Count("pk", filter=cond)
        aggregates[f"a_{b.key}"] = Coalesce(
            Sum(Case(When(cond, then=F("outstanding")), default=Value(ZERO), output_field=MONEY)),
            Value(ZERO, MONEY),
        )
    row = open_queryset.order_by().aggregate(**aggregates)
    return {b.key: {"count": row[f"n_{b.key}"], "amount": row[f"a_{b.key}"]} for b in BUCKETS}
