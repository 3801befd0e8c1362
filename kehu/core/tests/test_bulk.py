"""``copy_rows`` (the import's insert): the rows stored are the rows ``bulk_create`` stores, ids
come from the table's sequence, and a refused row fails as Django's errors, inserting nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from kehu.core.bulk import copy_rows
from kehu.customers.models import Contact, Customer, CustomerStatus
from kehu.customers.services import primary_contact_for

# Characters COPY's text format escapes, a quote, Chinese, a long remark.
ODD_TEXTS = ["厦门\t恒通\\叉车", 'O\'Neil "Linde"', "第一行\n第二行", "￥100%_", "长" * 2000]


def customers(org, tag: str) -> list[Customer]:
    now = timezone.now()
    rows = []
    for i, text in enumerate(ODD_TEXTS):
        rows.append(
            Customer(
                name=f"{tag}{i}{text[:40]}",
                name_normalized=f"{tag}{i}",
                credit_code="",
                contact_name=text[:20],
                contact_phone=f"1390000{i:04d}",
                remark=text,
                longitude=Decimal("118.089425"),
                latitude=Decimal("24.479834") if i % 2 else None,
                owner=org["sales1"] if i % 2 else None,
                creator=org["admin"],
                status=CustomerStatus.OPEN,
                claimed_at=now if i % 2 else None,
                pooled_at=None if i % 2 else now,
            )
        )
    return rows


def stored(pks) -> list[dict]:
    """Every column but the id, the names (numbered per call) and the times (now per call)."""
    fields = [
        f.attname
        for f in Customer._meta.concrete_fields
        if f.name not in ("id", "name", "name_normalized") and not f.name.endswith("_at")
    ]
    return list(Customer.objects.filter(pk__in=pks).order_by("pk").values(*fields))


@pytest.mark.django_db
def test_copied_rows_are_the_rows_bulk_create_stores(org):
    copied = copy_rows(Customer, customers(org, "C"))
    created = Customer.objects.bulk_create(customers(org, "B"))
    assert all(c.pk for c in copied) and len({c.pk for c in copied}) == len(copied)
    ours, django = stored([c.pk for c in copied]), stored([c.pk for c in created])
    assert ours == django
    back = Customer.objects.get(pk=copied[0].pk)
    assert back.remark == ODD_TEXTS[0] and back.receivable_total == 0
    assert back.created_at and back.updated_at and back.version == 1
    assert Customer.objects.get(pk=copied[2].pk).remark == "第一行\n第二行"
    contacts = copy_rows(Contact, [primary_contact_for(c) for c in copied])
    assert [
        c.customer_id
        for c in Contact.objects.filter(pk__in=[c.pk for c in contacts]).order_by("pk")
    ] == [c.pk for c in copied]
    # The sequence moved past the copied ids: an ordinary save gets a new one.
    later = Customer.objects.create(
        name="之后新建", name_normalized="之后新建", creator=org["admin"]
    )
    assert later.pk not in {c.pk for c in copied}


@pytest.mark.django_db
def test_a_refused_row_raises_djangos_error_and_inserts_nothing(org):
    rows = customers(org, "R")
    rows[1].credit_code = rows[3].credit_code = "91350200MA2XYZ1234"  # unique when not blank
    before = Customer.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(Customer, rows)
    assert Customer.objects.count() == before
    if connection.vendor != "postgresql":
        return  # SQLite does not enforce a column's length
    too_long = customers(org, "L")
    too_long[0].name = "名" * 300
    with pytest.raises(DataError), transaction.atomic():
        copy_rows(Customer, too_long)
    assert Customer.objects.count() == before


@pytest.mark.django_db
def test_rows_made_by_name_and_copied_from_a_generator(org):
    """``instance_maker`` fills what is not named with the field's default; ``copy_rows`` takes
    a generator of ``count`` objects (built while the server stores the ones before)."""
    from kehu.core.bulk import instance_maker

    make = instance_maker(Customer)
    made = make(name="按名新建", name_normalized="按名新建", creator_id=org["admin"].pk)
    assert made.pk is None and made.status == CustomerStatus.OPEN and made.version == 1
    assert made.receivable_vehicle == 0 and made.owner_id is None and made.remark == ""
    with pytest.raises(KeyError):
        make(owner=org["sales1"])  # attribute names only: owner_id

    def generated():
        for i in range(3):
            yield make(name=f"生成{i}", name_normalized=f"生成{i}", creator_id=org["admin"].pk)

    rows = copy_rows(Customer, generated(), count=3)
    assert [
        c.name for c in Customer.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    ] == [
        "生成0",
        "生成1",
        "生成2",
    ]
    assert Customer.objects.get(pk=rows[0].pk).status == CustomerStatus.OPEN
