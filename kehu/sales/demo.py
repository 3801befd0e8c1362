"""Demo leads: a few following, one converted, one invalid."""

from .services import lead_convert, lead_followup_create, lead_mark_invalid, lead_save

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
