"""The 客户画像's figures (SPEC §7): the summary and 同比增幅, read from the ledger's sources.

Every figure comes from the rows the ledger counts (``kehu.ledger.services.sources``: one row per
document that bills or pays, with ``billed`` and ``paid`` amounts), so the portrait can never
disagree with 待收款金额: a voided contract or a cancelled service order bills 0 there and so
counts for nothing here either.

- 总消费金额 = the customer's billed total; 下单次数 = its billed documents;
- 合同数据 = its billed (approved, not voided) contracts: count and amount;
- 回款数据 = what was paid (approved 回款, paid on-account orders …): count and amount;
- 同比增幅: per order kind, amount and count billed in a period and in the compared one, the
  growth in % ("—" when the compared period billed nothing), and the monthly totals of the
  period's year and the year before. A billed row counts on the local (Asia/Shanghai) day of
  its billing (the source's ``billed_on`` field: a contract's approval, a service order's
  acceptance).

The caller has fetched the customer through the visibility rule (``customer_or_pool_get``):
these figures are the customer's own, like its 待收款金额.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from kehu.core.errors import ApplicationError
from kehu.core.money import money_json
from kehu.ledger import services as ledger

from .models import RECEIVABLE_KINDS, Customer

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
KIND_LABELS = {k: str(v) for k, v in RECEIVABLE_KINDS.items()}
MAX_DAYS = 366 * 10  # a compared period longer than ten years is a typo


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


# --- summary ---------------------------------------------------------------------------------


def portrait_summary(customer: Customer) -> dict[str, Any]:
    """The summary figures of one customer, in ONE query (whatever its number of documents)."""
    parts, params = [], []
    for index, source in enumerate(ledger.sources):
        qs = source().filter(customer_id=customer.pk)
        sql, p = qs.query.sql_with_params()
        parts.append(
            f"SELECT %s AS src, s{index}.billed AS billed, s{index}.paid AS paid "
            f"FROM ({sql}) s{index}"
        )
        params.extend([source().model._meta.label_lower, *p])
    by_source: dict[str, dict[str, Any]] = {}
    if parts:
        sql = (
            "SELECT u.src, SUM(u.billed), SUM(CASE WHEN u.billed > 0 THEN 1 ELSE 0 END), "
            "SUM(u.paid), SUM(CASE WHEN u.paid > 0 THEN 1 ELSE 0 END) "
            f"FROM ({' UNION ALL '.join(parts)}) u GROUP BY u.src"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for src, billed, billed_n, paid, paid_n in cursor.fetchall():
                by_source[src] = {
                    "billed": _money(billed),
                    "billed_count": int(billed_n or 0),
                    "paid": _money(paid),
                    "paid_count": int(paid_n or 0),
                }
    rows = by_source.values()
    contracts = by_source.get("sales.contract", {})
    return {
        "total_spend": sum((r["billed"] for r in rows), ZERO),
        "order_count": sum(r["billed_count"] for r in rows),
        "contract_count": contracts.get("billed_count", 0),
        "contract_amount": contracts.get("billed", ZERO),
        "paid_amount": sum((r["paid"] for r in rows), ZERO),
        "paid_count": sum(r["paid_count"] for r in rows),
        "receivable_total": _money(customer.receivable_total),
        "receivables": [
            {
                "kind": k,
                "label": KIND_LABELS[k],
                "amount": _money(getattr(customer, f"receivable_{k}")),
            }
            for k in RECEIVABLE_KINDS
        ],
        "last_followup_at": customer.last_followup_at,
        "next_followup_at": customer.next_followup_at,
    }


def summary_json(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary as ``GET /api/v1/customers/{id}/portrait`` answers it (money as strings)."""
    out = {
        k: money_json(v) if isinstance(v, Decimal) else v
        for k, v in summary.items()
        if k != "receivables"
    }
    out["receivables"] = [{**r, "amount": money_json(r["amount"])} for r in summary["receivables"]]
    return out


# --- 同比增幅 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def year_before(day: date) -> date:
    """The same day a year earlier; 2月29日 → 2月28日."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def quick_period(pick: str, today: date | None = None) -> Period:
    """本月 / 本季度 / 本年: from the first day of the month, quarter or year to today."""
    today = today or timezone.localdate()
    if pick == "month":
        return Period(today.replace(day=1), today)
    if pick == "quarter":
        return Period(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today)
    return Period(date(today.year, 1, 1), today)


QUICK_PICKS = {"month": "本月", "quarter": "本季度", "year": "本年"}


def _parse_day(value: str | None, label: str, errors: dict[str, list[str]], key: str):
    if not value:
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        errors[key] = [f"{label}不是有效日期（格式：2026-01-31）"]
        return None


def parse_periods(params) -> tuple[Period, Period, str]:
    """``(period, compare, pick)`` from ``from``, ``to``, ``compare_from``, ``compare_to`` and
    ``pick`` (month/quarter/year). Default: this year to date against the same days last year.
    Bad input raises ``ApplicationError`` with Chinese field errors."""
    errors: dict[str, list[str]] = {}
    pick = params.get("pick") or ""
    if pick and pick not in QUICK_PICKS:
        errors["pick"] = ["快捷选择只能是本月、本季度或本年"]
    start = _parse_day(params.get("from"), "开始日期", errors, "from")
    end = _parse_day(params.get("to"), "结束日期", errors, "to")
    c_start = _parse_day(params.get("compare_from"), "对比开始日期", errors, "compare_from")
    c_end = _parse_day(params.get("compare_to"), "对比结束日期", errors, "compare_to")
    if errors:
        raise ApplicationError("日期有误，请检查后重试", errors=errors)
    if start is None and end is None:
        default = quick_period(pick or "year")
        start, end = default.start, default.end
    elif start is None or end is None:
        key = "from" if start is None else "to"
        raise ApplicationError("请同时选择开始和结束日期", errors={key: ["请选择日期"]})
    if (c_start is None) != (c_end is None):
        key = "compare_from" if c_start is None else "compare_to"
        raise ApplicationError("请同时选择对比的开始和结束日期", errors={key: ["请选择日期"]})
    if c_start is None or c_end is None:
        c_start, c_end = year_before(start), year_before(end)
    for a, b, key, what in (
        (start, end, "to", "结束日期"),
        (c_start, c_end, "compare_to", "对比结束日期"),
    ):
        if b < a:
            errors[key] = [f"{what}不能早于开始日期"]
        elif (b - a).days > MAX_DAYS:
            errors[key] = ["时间段不能超过十年"]
    if errors:
        raise ApplicationError("日期有误，请检查后重试", errors=errors)
    return Period(start, end), Period(c_start, c_end), pick


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Aware datetimes of the local days ``first`` … ``last`` (end exclusive)."""
    tz = timezone.get_current_timezone()
    lo = timezone.make_aware(datetime.combine(first, time.min), tz)
    hi = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min), tz)
    return lo, hi


def billed_rows(customer_id: int, first: date, last: date) -> list[tuple[str, Decimal, date]]:
    """``(kind, amount, local day)`` of every row the customer was billed for between the two
    days: ONE query over the ledger's billing sources (voided/cancelled rows bill 0: left out)."""
    lo, hi = _bounds(first, last)
    parts = []
    for source in ledger.sources:
        field = getattr(source, "billed_on", None)
        if not field:
            continue  # a source that only pays (回款, 挂账订单 paid)
        parts.append(
            source()
            .filter(customer_id=customer_id, billed__gt=0)
            .filter(**{f"{field}__gte": lo, f"{field}__lt": hi})
            .values_list("kind", "billed", F(field))
            .order_by()
        )
    if not parts:
        return []
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return [
        (kind, _money(amount), timezone.localtime(_aware(moment)).date())
        for kind, amount, moment in query
    ]


def _aware(moment):
    if isinstance(moment, str):  # SQLite answers a union's datetimes as text
        moment = datetime.fromisoformat(moment)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)  # stored in UTC
    return moment


def growth(current: Decimal | int, previous: Decimal | int) -> Decimal | None:
    """(current − previous) / previous in %, 1 decimal; None ("—") when previous is 0."""
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(
        Decimal("0.1")
    )


def customer_yoy(customer: Customer, *, period: Period, compare: Period) -> dict[str, Any]:
    """同比增幅 of one customer: per kind the amount and count in ``period`` and ``compare``
    with the growth, the totals, and the monthly amounts of the period's year and the year
    before (the trend line)."""
    year = period.end.year
    first = min(period.start, compare.start, date(year - 1, 1, 1))
    last = max(period.end, compare.end, date(year, 12, 31))
    rows = billed_rows(customer.pk, first, last)
    figures = {
        k: {"amount": ZERO, "count": 0, "compare_amount": ZERO, "compare_count": 0}
        for k in KIND_LABELS
    }
    months = {year: [ZERO] * 12, year - 1: [ZERO] * 12}
    for kind, amount, day in rows:
        f = figures.setdefault(
            kind, {"amount": ZERO, "count": 0, "compare_amount": ZERO, "compare_count": 0}
        )
        if period.start <= day <= period.end:
            f["amount"] += amount
            f["count"] += 1
        if compare.start <= day <= compare.end:
            f["compare_amount"] += amount
            f["compare_count"] += 1
        if day.year in months:
            months[day.year][day.month - 1] += amount
    kinds = [
        {
            "kind": k,
            "label": KIND_LABELS.get(k, k),
            **f,
            "growth": growth(f["amount"], f["compare_amount"]),
            "count_growth": growth(f["count"], f["compare_count"]),
        }
        for k, f in figures.items()
    ]
    total = {
        "amount": sum((k["amount"] for k in kinds), ZERO),
        "count": sum(k["count"] for k in kinds),
        "compare_amount": sum((k["compare_amount"] for k in kinds), ZERO),
        "compare_count": sum(k["compare_count"] for k in kinds),
    }
    total["growth"] = growth(total["amount"], total["compare_amount"])
    total["count_growth"] = growth(total["count"], total["compare_count"])
    return {
        "period": period,
        "compare": compare,
        "kinds": kinds,
        "total": total,
        "trend": {"year": year, "months": months[year], "previous": months[year - 1]},
    }


def yoy_json(result: dict[str, Any]) -> dict[str, Any]:
    """同比增幅 as ``GET /api/v1/customers/{id}/yoy`` answers it."""

    def row(r: dict[str, Any]) -> dict[str, Any]:
        return {
            k: money_json(v)
            if isinstance(v, Decimal) and "growth" not in k
            else (None if v is None else float(v) if isinstance(v, Decimal) else v)
            for k, v in r.items()
        }

    period, compare = result["period"], result["compare"]
    return {
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "compare_from": compare.start.isoformat(),
        "compare_to": compare.end.isoformat(),
        "kinds": [row(k) for k in result["kinds"]],
        "total": row(result["total"]),
        "trend": {
            "year": result["trend"]["year"],
            "months": [money_json(v) for v in result["trend"]["months"]],
            "previous": [money_json(v) for v in result["trend"]["previous"]],
        },
    }


def month_labels() -> list[str]:
    return [f"{m}月" for m in range(1, 13)]
