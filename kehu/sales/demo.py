"""Demo leads (a few following, one converted, one invalid) and the seed's 商机 of 测试客户A."""

from datetime import date
from decimal import Decimal

from .services import (
    lead_convert,
    lead_followup_create,
    lead_mark_invalid,
    lead_save,
    opportunity_save,
)

LEADS = [
    ("厦门港务叉车需求", "陈先生", "13950001001", "sales1"),
    ("泉州鞋业仓储升级", "林女士", "13950001002", "sales1"),
    ("漳州冷链物流中心", "黄经理", "13950001003", "sales2"),
    ("福州建材市场", "郑老板", "13950001004", "sales3"),
    ("莆田木业加工厂", "吴厂长", "13950001005", "sales2"),
    ("宁德电池配套园区", "周主任", "13950001006", "manager1"),
]


def seed(users) -> None:
    created = []
    for name, contact, phone, owner in LEADS:
        lead = lead_save(
            actor=users[owner],
            instance=None,
            data={"name": name, "contact_name": contact, "contact_phone": phone},
        )
        lead_followup_create(
            actor=users[owner], lead=lead, data={"content": "电话初步沟通，客户有采购意向"}
        )
        created.append(lead)
    lead_convert(actor=users["sales1"], lead=created[0], confirm_duplicates=True)
    lead_mark_invalid(actor=users["sales2"], lead=created[4], reason="联系不上")

    seed_opportunities(users)


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
