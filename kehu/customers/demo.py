"""Demo customers (SPEC §11): a few hundred, spread over the salespeople and the pool."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from kehu.basics.models import DictEntry, DictKind, Region
from kehu.pool.rules import default_pool, refresh_return_due

from .models import Contact, Customer, Gender
from .services import customer_create
from .validation import USCC_CHARSET, uscc_check_digit

CITIES = [
    "厦门",
    "福州",
    "泉州",
    "漳州",
    "莆田",
    "宁德",
    "上海",
    "杭州",
    "宁波",
    "苏州",
    "无锡",
    "广州",
    "深圳",
    "东莞",
    "佛山",
    "青岛",
    "济南",
    "天津",
    "成都",
    "武汉",
]
WORDS = [
    "恒通",
    "华达",
    "鑫源",
    "盛泰",
    "永丰",
    "宏远",
    "金桥",
    "瑞祥",
    "新锐",
    "众力",
    "嘉禾",
    "宝龙",
    "顺发",
    "天成",
    "海联",
    "明辉",
    "捷运",
    "安达",
    "隆兴",
    "富华",
]
TRADES = [
    "物流",
    "仓储",
    "食品",
    "塑料",
    "木业",
    "纸业",
    "五金",
    "化工",
    "建材",
    "机械",
    "电子",
    "纺织",
    "冷链",
    "港务",
    "钢材",
]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "厂", "贸易商行"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建华",
    "志强",
    "海燕",
    "国平",
]
BANKS = ["建设银行", "工商银行", "农业银行", "中国银行", "招商银行", "农商银行", "兴业银行"]
PRODUCTS = [
    "食品",
    "塑料制品",
    "木材",
    "纸箱",
    "五金配件",
    "化工原料",
    "建材",
    "服装",
    "电子元件",
    "钢材",
]


def make_uscc(rng: random.Random, region: str) -> str:
    body = "91" + region + "".join(rng.choice(USCC_CHARSET) for _ in range(9))
    return body + uscc_check_digit(body)


def make_mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def seed(users, count: int = 300) -> None:
    rng = random.Random(20261127)
    now = timezone.now()
    levels = list(DictEntry.objects.filter(kind=DictKind.LEVEL))
    sources = list(DictEntry.objects.filter(kind=DictKind.SOURCE))
    industries = list(DictEntry.objects.filter(kind=DictKind.INDUSTRY))
    tags = list(DictEntry.objects.filter(kind=DictKind.TAG))
    districts = list(
        Region.objects.filter(
            level=Region.Level.DISTRICT,
            parent__parent__adcode__in=["350000", "310000", "330000", "440000", "320000"],
        ).select_related("parent")[:400]
    ) or list(Region.objects.filter(level=Region.Level.DISTRICT)[:400])
    owners = [users["sales1"], users["sales2"], users["sales3"], users["manager1"]]

    # The seed's own customer, with the contacts of its portrait.
    xiamen = Region.objects.filter(adcode="350203").first()
    sample = customer_create(
        actor=users["sales1"],
        data={
            "name": "测试客户A有限公司",
            "legal_person": "法人A",
            "credit_code": make_uscc(rng, "350203"),
            "bank_name": "建设银行",
            "bank_account": "6217 0018 0000 1234 567",
            "products": "食品",
            "raw_materials": "食品",
            "contact_name": "测试A",
            "contact_phone": "15260692573",
            "province": "350000",
            "city": "350200",
            "district": xiamen.adcode if xiamen else None,
            "address": "XXX路XX小区 111号55",
            "level": str(levels[0].pk) if levels else None,
            "source": str(sources[0].pk) if sources else None,
            "tags": [str(tags[0].pk)] if tags else [],
            "industry": str(industries[2].pk) if len(industries) > 2 else None,
            "next_followup_at": timezone.localtime(now).replace(
                hour=16, minute=0, second=0, microsecond=0
            ),
            "remark": "演示数据：与用户手册中的示例一致",
        },
        confirm_duplicates=True,
    )
    Contact.objects.create(
        customer=sample,
        name="测试小A",
        mobile="15259696586",
        gender=Gender.MALE,
        is_decision_maker=False,
    )

    story: list = []  # (customer, owner, created, last follow-up, goes to the pool)
    taken = set(Customer.objects.values_list("name", flat=True))
    for i in range(count):
        district = rng.choice(districts)
        owner = owners[i % len(owners)]
        city = (
            district.parent
            if district.parent and district.parent.level == Region.Level.CITY
            else None
        )
        province = city.parent if city else district.parent
        # The name carries the customer's own city (a 厦门 company sits in 厦门).
        city_name = place_name(city or province or district) or rng.choice(CITIES)
        name = f"{city_name}{rng.choice(WORDS)}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
        while name in taken:
            name = f"{city_name}{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.choice(TRADES)}{rng.choice(SUFFIXES)}"
        taken.add(name)
        customer = customer_create(
            actor=owner,
            data={
                "name": name,
                "legal_person": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "credit_code": make_uscc(rng, district.adcode) if rng.random() < 0.7 else "",
                "bank_name": rng.choice(BANKS),
                "bank_account": "".join(rng.choice("0123456789") for _ in range(16)),
                "products": rng.choice(PRODUCTS),
                "raw_materials": rng.choice(PRODUCTS),
                "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "contact_phone": make_mobile(rng),
                "province": province.adcode if province else None,
                "city": city.adcode if city else None,
                "district": district.adcode,
                "address": f"{rng.choice(WORDS)}路{rng.randint(1, 999)}号",
                "level": str(rng.choice(levels).pk) if levels else None,
                "source": str(rng.choice(sources).pk) if sources else None,
                "industry": str(rng.choice(industries).pk) if industries else None,
                "tags": [str(t.pk) for t in rng.sample(tags, k=rng.randint(0, 2))] if tags else [],
                "next_followup_at": now
                + timedelta(days=rng.randint(-5, 20), hours=rng.randint(0, 8))
                if rng.random() < 0.6
                else None,
            },
            confirm_duplicates=True,
        )
        # The first customers are the long-standing ones (the sales documents' demo gives them
        # contracts up to 400 days old); the rest arrived over the last months.
        days = rng.randint(420, 700) if i < 40 else rng.randint(30, 400)
        created = now - timedelta(days=days, minutes=rng.randint(0, 1440))
        # Recent follow-ups keep most demo customers private; a few are about to return.
        followed = now - timedelta(
            days=rng.choice([rng.randint(0, 20), rng.randint(26, 29)]), hours=rng.randint(0, 12)
        )
        story.append((customer, owner, created, followed, i % 5 == 4))
    pool = default_pool()
    for customer, owner, created, followed, pooled in story:
        fields = {"created_at": created, "last_followup_at": followed}
        if pooled:
            # Released after its last follow-up, never before it existed.
            fields |= {
                "owner": None,
                "previous_owner_id": owner.pk,
                "pool": pool,
                "pooled_at": followed + (now - followed) * rng.uniform(0.2, 0.9),
                "pool_return_at": None,
                "next_followup_at": None,
            }
        Customer.objects.filter(pk=customer.pk).update(**fields)
    sample_created = timezone.make_aware(datetime(2025, 7, 20, 9, 30))
    sample_followed = now - timedelta(days=2)
    Customer.objects.filter(pk=sample.pk).update(
        created_at=sample_created, last_followup_at=sample_followed
    )
    story.append((sample, users["sales1"], sample_created, sample_followed, False))
    seed_history(rng, story, now)
    refresh_return_due(Customer.objects.filter(owner__isnull=False).values_list("pk", flat=True))


FOLLOWUP_NOTES = [
    "电话沟通，客户询问3吨柴油叉车报价",
    "上门拜访仓库负责人，了解现有叉车使用情况",
    "微信发送电动叉车资料和租赁方案",
    "客户到店看车，试驾2吨电动叉车",
    "回访：上月保养后车辆运行正常",
    "客户考虑以旧换新，约下周再谈",
    "跟进报价单，客户在走内部审批",
    "询问配件（货叉、轮胎）库存和交期",
]


def place_name(region) -> str:
    """厦门市 → 厦门, 上海市 → 上海, 福建省 → 福建 (a company name's place prefix)."""
    if region is None:
        return ""
    name = region.name
    for suffix in ("特别行政区", "自治州", "地区", "市", "省", "盟", "县", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def seed_history(rng: random.Random, story, now) -> None:
    """Each customer's story over the months: its contacts from when it was created (a second
    one joining later for some), and its follow-up records — 1 to 5, spread between its
    creation and its 最后跟进, the last one exactly at 最后跟进 — by the salesperson who owned it."""
    from kehu.followups.models import FollowUp

    types = list(DictEntry.objects.filter(kind=DictKind.FOLLOWUP_TYPE)) or [None]
    followups = []
    extra_contacts = []
    for customer, owner, created, followed, _pooled in story:
        primary = Contact.objects.filter(customer=customer).order_by("id").first()
        Contact.objects.filter(customer=customer).update(created_at=created)
        if rng.random() < 0.3:
            joined = created + (now - created) * rng.uniform(0.1, 0.8)
            contact = Contact(
                customer=customer,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                mobile=make_mobile(rng),
                position=rng.choice(["采购经理", "仓库主管", "设备科长", "财务"]),
                gender=rng.choice([Gender.MALE, Gender.FEMALE]),
            )
            extra_contacts.append((contact, joined))
        count = rng.randint(1, 5)
        span = followed - created
        moments = sorted(created + span * rng.uniform(0.05, 0.95) for _ in range(count - 1))
        moments.append(followed)
        for moment in moments:
            followups.append(
                FollowUp(
                    customer=customer,
                    author=owner,
                    type=rng.choice(types),
                    content=rng.choice(FOLLOWUP_NOTES),
                    followed_at=moment,
                    contact=primary,
                )
            )
    FollowUp.objects.bulk_create(followups, batch_size=500)
    # Entered when they happened, not when the demo loaded.
    FollowUp.objects.filter(customer__in=[c for c, *_ in story]).update(created_at=F("followed_at"))
    for contact, joined in extra_contacts:
        contact.save()
        Contact.objects.filter(pk=contact.pk).update(created_at=joined)
