import pytest

from kehu.customers.dedupe import find_duplicates, normalize_name
from kehu.customers.models import Contact


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("厦门恒通物流有限公司", "厦门恒通物流"),
        ("厦门恒通物流有限责任公司", "厦门恒通物流"),
        ("厦门 恒通（物流）股份有限公司", "厦门恒通物流"),
        ("ＡＢＣ叉车　集团公司", "abc叉车"),
        ("恒通木器厂", "恒通木器"),
        ("公司", "公司"),
    ],
)
def test_normalize_name(raw, normalised):
    assert normalize_name(raw) == normalised


@pytest.mark.django_db
def test_exact_and_near_name_matches(make_customer):
    a = make_customer(name="厦门恒通物流有限公司")
    b = make_customer(name="上海华东叉车有限公司")
    make_customer(name="完全无关的公司")
    exact = find_duplicates(name="厦门恒通物流股份有限公司")
    assert [(m.id, m.reason) for m in exact] == [(a.id, "name_exact")]
    # substring both ways
    assert {m.id for m in find_duplicates(name="恒通物流")} == {a.id}
    assert b.id in {m.id for m in find_duplicates(name="华东叉车")}
    assert b.id in {m.id for m in find_duplicates(name="新上海华东叉车")}


@pytest.mark.django_db
def test_phone_matches_customer_and_every_contact(make_customer):
    a = make_customer(name="甲公司", contact_phone="13912345678")
    b = make_customer(name="乙公司")
    Contact.objects.create(customer=b, name="李四", mobile="13787654321")
    Contact.objects.create(customer=b, name="王五", phone="0592-5551234")
    assert [m.id for m in find_duplicates(phone="139 1234 5678")] == [a.id]
    assert [m.id for m in find_duplicates(phone="13787654321")] == [b.id]
    assert [m.id for m in find_duplicates(phone="05925551234")] == [b.id]
    assert find_duplicates(phone="13000000000") == []


@pytest.mark.django_db
def test_match_answer_has_no_contact_data(make_customer, org):
    make_customer(owner="sales2", name="乙方叉车有限公司", contact_phone="13912345670")
    (match,) = find_duplicates(name="乙方叉车")
    public = match.as_public_dict()
    assert set(public) == {"name", "owner_name", "in_pool", "status", "created_at"}
    assert public["owner_name"] == org["sales2"].display_name
    assert "13912345670" not in str(public)


NEAR_NAMES = [
    "厦门恒通物流有限公司",
    "厦门恒通叉车有限公司",
    "福州叉车厂",
    "厦门叉车",
    "叉车王",
    "上海物流集团",
    "厦门华达物流有限公司",
    "恒通",
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["叉车", "物流", "厦门", "恒通", "厦门叉车", "有限公司", "厦门恒通物流", "鑫鑫"]
)
def test_near_matches_are_the_names_containing_or_like_it(make_customer, name):
    """查重 by name finds, besides the exact name, every name containing the normalised name, contained in
    it or similar to it (trigram similarity on PostgreSQL) — split into indexed queries, the same
    customers as the one plain condition."""
    from django.db import connection
    from django.db.models import Q

    from kehu.customers.models import Customer

    made = {make_customer(name=n).pk for n in NEAR_NAMES}
    norm = normalize_name(name)
    near = Q(name_normalized__contains=norm)
    if connection.vendor == "postgresql":
        near |= Q(name_normalized__trigram_similar=norm)
    # … and the names contained in it ("恒通" in "厦门恒通物流"), two characters or more.
    near |= Q(
        name_normalized__in=[
            norm[a:b] for a in range(len(norm)) for b in range(a + 2, len(norm) + 1)
        ]
    )
    expected = set(
        Customer.objects.filter(near | Q(name_normalized=norm)).values_list("pk", flat=True)
    )
    found = {m.id for m in find_duplicates(name=name)}
    assert found == expected & made
