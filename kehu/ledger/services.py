"""The receivables ledger (SPEC §6.3): the ONLY code that writes a customer's 待收款金额 and 状态.

Documents call :func:`post` in the same transaction as their own state change: a contract
approved bills its kind, a payment approved pays it, 作废 posts the exact opposite. The row of
the customer is locked first, so concurrent postings queue instead of losing one another.
``receivable_total`` is a generated column (the database adds the six kinds), and
:meth:`Customer.save` never writes these columns, so nothing else can drift them.

:func:`drifts` recomputes every customer's figures from the documents in one set-based query
(each document app registers its :data:`sources`) and :func:`fix` corrects what drifted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet

from kehu.customers.models import RECEIVABLE_KINDS, Customer, CustomerStatus

ZERO = Decimal("0.00")
KINDS = tuple(RECEIVABLE_KINDS)

# Each source answers ``.values("customer_id", "kind", "billed", "paid", "ever_billed")`` rows —
# one per document that counts — e.g. approved contracts (billed) and approved payments (paid);
# ``ever_billed`` is 1 for a document that was billed at some time (状态 已成交), else 0.
sources: list[Callable[[], QuerySet]] = []


def register_source(fn: Callable[[], QuerySet] | None = None, *, billed_on: str | None = None):
    """Register a source (``@register_source`` or ``@register_source(billed_on="approved_at")``).
    ``billed_on`` names the model's date field of the billing (the day a billed row counts on:
    the 客户画像's 同比增幅, ``kehu/customers/portrait.py``); a source that bills must name it."""

    def add(source: Callable[[], QuerySet]) -> Callable[[], QuerySet]:
        source.billed_on = billed_on  # type: ignore[attr-defined]
        sources.append(source)
        return source

    return add(fn) if fn is not None else add


def amount_when(condition, field: str = "amount"):
    """For a source's ``billed``/``paid`` column: ``field`` where ``condition`` holds, else 0."""
    from django.db.models import Case, DecimalField, Value, When

    return Case(
        When(condition, then=F(field)),
        default=Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def no_amount():
    from django.db.models import DecimalField, Value

    return Value(ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))


def post(*, customer_id: int, kind: str, billed: Decimal = ZERO, paid: Decimal = ZERO) -> bool:
    """Add ``billed − paid`` to the customer's receivable of ``kind`` (negative amounts reverse
    an earlier posting). Billing anything makes the customer 已成交; the answer says whether
    this posting did (callers refresh what depends on the status). Call inside the
    document's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown receivable kind {kind!r}")
    assert transaction.get_connection().in_atomic_block, "post() belongs in a transaction"
    delta = Decimal(billed) - Decimal(paid)
    status = (
        Customer.objects.select_for_update().filter(pk=customer_id).values_list("status", flat=True)
    ).first()
    updates: dict[str, Any] = {f"receivable_{kind}": F(f"receivable_{kind}") + delta}
    won_now = billed > 0 and status != CustomerStatus.WON
    if won_now:
        updates["status"] = CustomerStatus.WON
    Customer.objects.filter(pk=customer_id).update(**updates)
    return won_now


def merge_into(*, kept_id: int, other_ids: list[int]) -> None:
    """合并客户: the kept customer takes over the others' figures (their documents move to it
    in the same transaction), so nothing is summed by hand elsewhere."""
    assert transaction.get_connection().in_atomic_block
    rows = list(
        Customer.objects.select_for_update()
        .filter(pk__in=[kept_id, *other_ids])
        .order_by("pk")
        .values("pk", "status", *(f"receivable_{k}" for k in KINDS))
    )
    others = [r for r in rows if r["pk"] != kept_id]
    updates: dict[str, Any] = {
        f"receivable_{k}": F(f"receivable_{k}") + sum((r[f"receivable_{k}"] for r in others), ZERO)
        for k in KINDS
    }
    if any(r["status"] == CustomerStatus.WON for r in rows):
        updates["status"] = CustomerStatus.WON
    Customer.objects.filter(pk=kept_id).update(**updates)
    Customer.objects.filter(pk__in=other_ids).update(
        status=CustomerStatus.OPEN, **{f"receivable_{k}": ZERO for k in KINDS}
    )


@dataclass(frozen=True)
class Drift:
    customer_id: int
    name: str
    stored: dict[str, Decimal]
    expected: dict[str, Decimal]

    def describe(self) -> str:
        labels = {**{k: str(v) for k, v in RECEIVABLE_KINDS.items()}, "status": "状态"}
        parts = [
            f"{labels[k]} {self.stored[k]} → {self.expected[k]}"
            for k in self.expected
            if self.stored[k] != self.expected[k]
        ]
        return f"客户「{self.name}」(ID {self.customer_id})：" + "；".join(parts)


def _expected_sql() -> tuple[str, list[Any]]:
    """Per customer: each kind's billed − paid and whether anything was ever billed."""
    parts: list[str] = []
    params: list[Any] = []
    for source in sources:
        sql, p = source().query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) s{len(parts)}")
        params.extend(p)
    if not parts:
        return "SELECT NULL AS customer_id WHERE 1 = 0", []
    union = " UNION ALL ".join(parts)
    sums = ", ".join(
        f"SUM(CASE WHEN u.kind = %s THEN u.billed - u.paid ELSE 0 END) AS r_{k}" for k in KINDS
    )
    sql = (
        f"SELECT u.customer_id AS customer_id, {sums}, MAX(u.ever_billed) AS won "
        f"FROM ({union}) u GROUP BY u.customer_id"
    )
    return sql, [*KINDS, *params]


def drifts(customer_ids: list[int] | None = None) -> list[Drift]:
    """Every customer whose stored figures differ from the documents (set-based; only the
    drifted rows come back to Python)."""
    expected, params = _expected_sql()
    table = Customer._meta.db_table
    cols = ", ".join(f"c.receivable_{k}, COALESCE(e.r_{k}, 0)" for k in KINDS)
    differs = " OR ".join(f"ABS(c.receivable_{k} - COALESCE(e.r_{k}, 0)) >= 0.005" for k in KINDS)
    where = f"({differs} OR (c.status = 'won') <> (COALESCE(e.won, 0) = 1))"
    if customer_ids is not None:
        if not customer_ids:
            return []
        where += f" AND c.id IN ({', '.join(['%s'] * len(customer_ids))})"
        params = [*params, *customer_ids]
    sql = (
        f"SELECT c.id, c.name, c.status, COALESCE(e.won, 0), {cols} FROM {table} c "
        f"LEFT JOIN ({expected}) e ON e.customer_id = c.id WHERE {where} ORDER BY c.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    q = Decimal("0.01")
    found = []
    for row in rows:
        pk, name, status, won = row[:4]
        figures = row[4:]
        stored: dict[str, Any] = {
            k: Decimal(str(figures[2 * i])).quantize(q) for i, k in enumerate(KINDS)
        }
        wanted: dict[str, Any] = {
            k: Decimal(str(figures[2 * i + 1])).quantize(q) for i, k in enumerate(KINDS)
        }
        stored["status"] = status
        wanted["status"] = CustomerStatus.WON if int(won or 0) == 1 else CustomerStatus.OPEN
        found.append(Drift(pk, name, stored, wanted))
    return found


@transaction.atomic
def fix(found: list[Drift]) -> int:
    """Write the recomputed figures of ``found`` (rows locked, in id order)."""
    for drift in sorted(found, key=lambda d: d.customer_id):
        Customer.objects.select_for_update().filter(pk=drift.customer_id).values_list("pk").first()
        Customer.objects.filter(pk=drift.customer_id).update(
            status=drift.expected["status"],
            **{f"receivable_{k}": drift.expected[k] for k in KINDS},
        )
    return len(found)
