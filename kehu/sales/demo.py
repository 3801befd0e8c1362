"""Demo leads (companies: a few following, one converted, one invalid), the seed's 商机 of 测试客户A and the
sales documents (报价单, 合同, 回款, 回款计划) of 测试客户A and ~15 other customers."""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from .services import (
    lead_convert,
    lead_followup_create,
    lead_mark_invalid,
    lead_save,
    opportunity_save,
)

# (company, contact, phone, owner, what they asked for): a lead is a company with a need, so
# the customer a conversion creates carries the company's name.
LEADS = [
    ("厦门港联物流有限公司", "陈先生", "13950001001", "sales1", "港区堆场需要3吨柴油叉车"),
    ("泉州鸿泰鞋业有限公司", "林女士", "13950001002", "sales1", "仓储升级，考虑电动叉车"),
    ("漳州鲜达冷链物流有限公司", "黄经理", "13950001003", "sales2", "冷库用电动堆高车"),
    ("福州闽兴建材市场有限公司", "郑老板", "13950001004", "sales3", "建材装卸，想租两台叉车"),
    ("莆田华林木业加工厂", "吴厂长", "13950001005", "sales2", "木材搬运，询二手叉车"),
    ("宁德新能电池配套有限公司", "周主任", "13950001006", "manager1", "园区物流，年度采购计划"),
]


def seed(users) -> None:
    created = []
    for name, contact, phone, owner, need in LEADS:
        lead = lead_save(
            actor=users[owner],
            instance=None,
            data={"name": name, "contact_name": contact, "contact_phone": phone},
        )
        lead_followup_create(
            actor=users[owner], lead=lead, data={"content": f"电话初步沟通：{need}"}
        )
        created.append(lead)
    lead_convert(actor=users["sales1"], lead=created[0], confirm_duplicates=True)
    lead_mark_invalid(actor=users["sales2"], lead=created[4], reason="联系不上")

    seed_opportunities(users)
    seed_documents(users)


# The seed's 客户商机 tab of 测试客户A有限公司 (name, budget, product price, expected close).
OPPORTUNITIES = [
    ("测试商机2.1", Decimal("500000.00"), Decimal("175.00"), date(2025, 8, 21)),
    ("测试商机1", Decimal("200000.00"), Decimal("100000.00"), date(2025, 8, 28)),
]


def seed_opportunities(users) -> None:
    from kehu.customers.models import Customer

    customer = Customer.objects.filter(name="测试客户A有限公司").first()
    if customer is None or customer.owner is None:
        return
    for name, budget, price, expected in OPPORTUNITIES:
        opportunity_save(
            actor=customer.owner,
            instance=None,
            data={
                "customer": customer,
                "name": name,
                "budget": budget,
                "product_price": price,
                "expected_close_at": expected,
            },
        )


# --- 报价单, 合同, 回款, 回款计划 (issue 11 point 10) --------------------------------------------
#
# Everything goes through the real services (document_save → submit → approve), so the ledger
# (待收款金额 per kind, 状态 已成交) is what the documents say and reconcile_receivables finds
# nothing to fix. Approvers as in SPEC §13: quotes and contracts → the submitter's department
# leader (manager1 for sales1/sales2/sales3), payments → 财务 (finance1).

APPROVED, PENDING, DRAFT = "approved", "pending", "draft"
KIND_LABELS = {
    "vehicle": "整车销售",
    "parts": "配件销售",
    "used_vehicle": "二手车销售",
    "lease": "租赁",
}

# 测试客户A有限公司's 报价单列表 (the seed's, dates and amounts): quoted on, opportunity, budget,
# amount or line items (product name, quantity, unit price, 优惠), state.
QUOTES_A = [
    (date(2025, 7, 28), "测试商机1", "0.00", [("3吨柴油叉车", "1", "100000.00", "0")], APPROVED),
    (date(2025, 7, 30), None, "0.00", [("2吨电动叉车", "1", "128000.00", "8000.00")], APPROVED),
    (
        date(2025, 9, 8),
        None,
        "200000.00",
        [("3吨柴油叉车", "1", "100000.00", "0"), ("送货运费", "1", "8.00", "0")],
        APPROVED,
    ),
    (date(2025, 9, 8), None, "0.00", "60010.00", APPROVED),
    (date(2025, 9, 20), "测试商机2.1", "500000.00", [("滤芯套装", "1", "200.00", "0")], APPROVED),
    (date(2026, 3, 21), None, "0.00", "120000.00", PENDING),
    (
        date(2026, 10, 12),
        "测试商机2.1",
        "500000.00",
        [("3.5吨柴油叉车", "3", "118000.00", "4000.00"), ("实心轮胎", "4", "1350.00", "0")],
        DRAFT,
    ),
]

# Its 合同 (key, name, kind, signed on, amount or line items, state). The approved ones give the
# four receivable columns different figures: 整车 1,205,000.00, 配件 5,260.00, 二手车 32,000.00,
# 租赁 20,487.70 (amounts billed minus approved payments below).
CONTRACTS_A = [
    ("v_a", "整车销售合同", "vehicle", date(2025, 7, 28), "300000.00", APPROVED),
    (
        "p_002",
        "20250816配件销售订单002",
        "parts",
        date(2025, 8, 16),
        [("货叉", "1", "2600.00", "0")],
        APPROVED,
    ),
    (
        "l_001",
        "20251022租赁订单001",
        "lease",
        date(2025, 10, 22),
        [("叉车月租 3吨", "3", "4500.00", "0")],
        APPROVED,
    ),
    (
        "p_003",
        "20251101配件销售订单003",
        "parts",
        date(2025, 11, 1),
        [("实心轮胎", "2", "1350.00", "0"), ("滤芯套装", "2", "380.00", "0")],
        APPROVED,
    ),
    (
        "u_001",
        "20251215二手车销售订单001",
        "used_vehicle",
        date(2025, 12, 15),
        [("二手3吨叉车", "1", "52000.00", "0")],
        APPROVED,
    ),
    ("l_002", "20260207租赁销售订单", "lease", date(2026, 1, 1), "7000.20", APPROVED),
    ("v_002", "20260126整车销售订单002", "vehicle", date(2026, 1, 26), "560000.00", APPROVED),
    (
        "v_004",
        "20260126整车销售订单004",
        "vehicle",
        date(2026, 1, 26),
        [
            ("3吨柴油叉车", "4", "100000.00", "0"),
            ("2吨电动叉车", "2", "128000.00", "0"),
            ("2吨电动搬运车", "2", "18500.00", "13000.00"),
        ],
        APPROVED,
    ),
    ("v_005", "20260207整车销售订单005", "vehicle", date(2026, 2, 7), "120031.00", PENDING),
    ("v_003", "20260207整车销售订单003", "vehicle", date(2026, 2, 7), "320000.00", DRAFT),
]

# 回款计划 of 整车销售合同 (instalment, amount, due: a date or days from today, 提前几天提醒).
PLANS_A = [(1, "250000.00", date(2025, 7, 31), 1), (2, "30000.00", -12, 3), (3, "20000.00", 3, 5)]

# 回款信息 (contract key, amount, paid on, method, state, plan instalment).
PAYMENTS_A = [
    ("v_a", "250000.00", date(2025, 7, 31), "对公账户", APPROVED, 1),
    ("p_002", "300.00", date(2025, 10, 31), "微信", APPROVED, None),
    ("l_001", "12.50", date(2025, 11, 1), "现金", APPROVED, None),
    ("p_003", "500.00", date(2025, 11, 11), "微信", APPROVED, None),
    ("u_001", "20000.00", date(2025, 12, 20), "对公账户", APPROVED, None),
    ("v_002", "10000.00", date(2026, 2, 10), "承兑汇票", PENDING, None),
    ("v_004", "60000.00", date(2026, 4, 9), "对公账户", APPROVED, None),
    ("v_004", "25000.00", date(2026, 4, 9), "对公账户", APPROVED, None),
]

# Other customers' contracts: kind → (line item, unit price range in yuan, quantity range).
OTHER_KINDS = {
    "vehicle": [("3吨柴油叉车", 92_000, 100_000), ("2吨电动叉车", 118_000, 128_000)],
    "parts": [("叉车蓄电池", 24_000, 26_800), ("实心轮胎", 1_200, 1_350)],
    "used_vehicle": [("二手3吨叉车", 45_000, 52_000)],
    "lease": [("叉车月租 3吨", 4_000, 4_500)],
}
OTHER_CUSTOMERS = 15


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """``day`` at that local time; never later than a few hours ago (approval times follow)."""
    moment = timezone.make_aware(datetime.combine(day, time(hour, minute)))
    return min(moment, timezone.now() - timedelta(hours=3))


def _items(products, rows) -> list[dict]:
    """Line items: the demo product of that name when there is one, else free text."""
    items = []
    for name, quantity, price, discount in rows:
        row = {"name": name, "quantity": quantity, "unit_price": price, "discount": discount}
        product = products.get(name)
        if product is not None:
            row["product"] = product.pk
        items.append(row)
    return items


def _backdate(doc, moment: datetime) -> None:
    """The document looks created (and submitted/approved) when it happened, not today."""
    from kehu.documents.models import ApprovalRecord

    fields = {"created_at": moment, "updated_at": moment}
    if doc.submitted_at:
        fields["submitted_at"] = moment + timedelta(minutes=1)
    if doc.approved_at:
        fields["approved_at"] = moment + timedelta(hours=2)
    type(doc).objects.filter(pk=doc.pk).update(**fields)
    if not doc.submitted_at:
        return
    records = ApprovalRecord.objects.filter(
        doc_type=_registry_key(doc), document_id=doc.pk
    ).order_by("id")
    for n, record_id in enumerate(records.values_list("pk", flat=True)):
        ApprovalRecord.objects.filter(pk=record_id).update(
            created_at=moment + timedelta(minutes=1 if n == 0 else 120)
        )


def _registry_key(doc) -> str:
    from kehu.documents.approval import registry_key

    return registry_key(doc)


class _Desk:
    """Creates documents as a salesperson and walks them to their state through the services."""

    def __init__(self, users):
        from kehu.basics.models import DictEntry, DictKind, Product
        from kehu.documents.types import registry

        self.users = users
        self.registry = registry
        self.products = {p.name: p for p in Product.objects.filter(is_active=True)}
        self.methods = {e.name: e for e in DictEntry.objects.filter(kind=DictKind.PAYMENT_METHOD)}

    def make(self, key: str, *, actor, data: dict, state: str, moment: datetime):
        from kehu.documents import approval
        from kehu.documents.services import document_save

        decl = self.registry[key]
        doc = document_save(decl, actor=actor, instance=None, data=data)
        if state in (PENDING, APPROVED):
            doc = approval.submit(decl, actor=actor, doc=doc)
        if state == APPROVED:
            approver = self.users["finance1"] if key == "payment" else self.users["manager1"]
            doc = approval.approve(decl, actor=approver, doc=doc)
        _backdate(doc, moment)
        return doc

    def method(self, name: str | None):
        entry = self.methods.get(name) if name else None
        return entry.pk if entry else None


def seed_documents(users) -> None:
    from kehu.customers.models import Customer
    from kehu.sales.models import Contract, Quote

    desk = _Desk(users)
    sample = Customer.objects.filter(name="测试客户A有限公司").first()
    if (
        sample is not None
        and sample.owner is not None
        and not Contract.objects.filter(customer=sample).exists()
        and not Quote.objects.filter(customer=sample).exists()
    ):
        _seed_sample(desk, sample)
    sellers = [users[k] for k in ("sales1", "sales2", "sales3") if k in users]
    others = (
        Customer.objects.filter(owner__in=sellers)
        .exclude(pk=sample.pk if sample else None)
        .order_by("id")[:OTHER_CUSTOMERS]
    )
    for n, customer in enumerate(others):
        if not Contract.objects.filter(customer=customer).exists():
            _seed_other(desk, customer, n)


def _seed_sample(desk: _Desk, customer) -> None:
    from kehu.sales.models import Opportunity

    owner = customer.owner
    opportunities = {o.name: o.pk for o in Opportunity.objects.filter(customer=customer)}
    for day, opportunity, budget, amount, state in QUOTES_A:
        moment = _at(day, 15, 12)
        data = {
            "customer": customer,
            "opportunity": opportunities.get(opportunity) if opportunity else None,
            "budget": budget,
            "quoted_at": moment,
        }
        if isinstance(amount, str):
            data["amount"] = amount
        else:
            data["items"] = _items(desk.products, amount)
        desk.make("quote", actor=owner, data=data, state=state, moment=moment)

    contracts = {}
    for key, name, kind, day, amount, state in CONTRACTS_A:
        signed = _at(day, 12)
        data = {
            "customer": customer,
            "name": name,
            "kind": kind,
            "signed_at": signed,
            "warranty_end_at": signed.replace(year=signed.year + 1)
            if kind in ("vehicle", "used_vehicle")
            else None,
            "signer": owner,
        }
        if isinstance(amount, str):
            data["amount"] = amount
        else:
            data["items"] = _items(desk.products, amount)
        contracts[key] = desk.make("contract", actor=owner, data=data, state=state, moment=signed)

    today = timezone.localdate()
    plans = {}
    for instalment, amount, due, remind in PLANS_A:
        due_at = due if isinstance(due, date) else today + timedelta(days=due)
        plans[instalment] = desk.make(
            "paymentplan",
            actor=owner,
            data={
                "contract": contracts["v_a"].pk,
                "instalment": instalment,
                "amount": amount,
                "due_at": due_at,
                "remind_days": remind,
                "method": desk.method("对公账户"),
            },
            state=DRAFT,
            moment=_at(date(2025, 7, 30), 16, 20 + instalment),
        )

    for key, amount, day, method, state, plan in PAYMENTS_A:
        desk.make(
            "payment",
            actor=owner,
            data={
                "contract": contracts[key].pk,
                "amount": amount,
                "paid_at": _at(day).date(),
                "method": desk.method(method),
                "plan": plans[plan].pk if plan else None,
            },
            state=state,
            moment=_at(day, 16, 52),
        )
        if plan:  # settled by this payment, on its day
            type(plans[plan]).objects.filter(pk=plans[plan].pk, settled_at__isnull=False).update(
                settled_at=_at(day, 18, 52)
            )


def _seed_other(desk: _Desk, customer, n: int) -> None:
    """One or two contracts of a salesperson's customer: mostly approved, some paid in full,
    some in part, one pending, one draft — so the 待收款金额 sort has something to order."""
    rng = random.Random(20261130 + n)
    owner = customer.owner
    kinds = list(OTHER_KINDS)
    count = 2 if n % 3 == 0 else 1
    for k in range(count):
        kind = kinds[(n + k) % len(kinds)] if k else rng.choice(kinds)
        name, low, high = rng.choice(OTHER_KINDS[kind])
        quantity = rng.randint(1, 3) if kind != "lease" else rng.choice((3, 6, 12))
        price = Decimal(rng.randrange(low, high + 1, 100))
        state = DRAFT if n == 8 and k == 0 else PENDING if n in (5, 11) and k == 0 else APPROVED
        day = timezone.localdate() - timedelta(days=rng.randint(20, 400))
        signed = _at(day, rng.randint(9, 17))
        contract = desk.make(
            "contract",
            actor=owner,
            data={
                "customer": customer,
                "name": f"{day:%Y%m%d}{KIND_LABELS[kind]}订单{k + 1:03d}",
                "kind": kind,
                "signed_at": signed,
                "signer": owner,
                "items": _items(desk.products, [(name, str(quantity), f"{price}.00", "0")]),
            },
            state=state,
            moment=signed,
        )
        if state != APPROVED:
            continue
        share = (Decimal(1), Decimal("0.3"), Decimal(0))[(n + k) % 3]
        amount = (contract.amount * share).quantize(Decimal("1"))
        if amount <= 0:
            continue
        paid = min(day + timedelta(days=rng.randint(3, 15)), timezone.localdate())
        desk.make(
            "payment",
            actor=owner,
            data={
                "contract": contract.pk,
                "amount": f"{amount}.00",
                "paid_at": paid,
                "method": desk.method(rng.choice(("对公账户", "承兑汇票", "微信"))),
            },
            state=PENDING if n == 13 else APPROVED,
            moment=_at(paid, 14, 30),
        )
