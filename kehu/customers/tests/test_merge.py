from decimal import Decimal

import pytest

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.merge import merge_customers
from kehu.customers.models import Contact, Customer
from kehu.customers.services import contact_save
from kehu.followups.models import FollowUp
from kehu.followups.services import followup_create


def test_merge_moves_everything_and_removes_the_others(org, make_customer, client_for):
    kept = make_customer("sales1", name="恒通物流有限公司", remark="")
    dup = make_customer(
        "sales1", name="恒通物流股份有限公司", remark="老客户", legal_person="法人乙"
    )
    contact_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": dup.pk, "name": "采购", "mobile": "13500000001"},
    )
    followup_create(actor=org["sales1"], customer=dup, data={"content": "跟进过"})
    Customer.objects.filter(pk=dup.pk).update(receivable_parts=Decimal("100.00"))
    response = client_for("manager1").post(
        "/customers/merge/", {"pk": [kept.pk, dup.pk]}, HTTP_HX_REQUEST="true"
    )
    assert (
        response.status_code == 200 and 'data-testid="merge-preview"' in response.content.decode()
    )
    merged = merge_customers(
        actor=org["manager1"], ids=[kept.pk, dup.pk], keep_id=kept.pk, choices={"name": dup.pk}
    )
    assert not Customer.objects.filter(pk=dup.pk).exists()
    assert (
        merged.name == "恒通物流股份有限公司"
        and merged.remark == "老客户"
        and merged.legal_person == "法人乙"
    )
    assert merged.receivable_total == Decimal("100.00") and merged.receivable_parts == Decimal(
        "100.00"
    )
    assert Contact.objects.filter(customer=merged).count() == 3
    assert Contact.objects.filter(customer=merged, is_primary=True).count() == 1
    assert FollowUp.objects.get().customer_id == merged.pk
    assert ChangeLog.objects.filter(action="merge", object_id=dup.pk).exists()


def test_merge_refusals(org, make_customer):
    a = make_customer("sales1")
    b = make_customer("sales2")
    with pytest.raises(ApplicationError, match="至少选择两个"):
        merge_customers(actor=org["manager1"], ids=[a.pk, a.pk], keep_id=a.pk)
    with pytest.raises(ApplicationError, match="无权查看"):
        merge_customers(actor=org["sales1"], ids=[a.pk, b.pk], keep_id=a.pk)
    with pytest.raises(Forbidden):
        c = make_customer("sales1")
        merge_customers(
            actor=org["sales1"], ids=[a.pk, c.pk], keep_id=a.pk
        )  # salespeople lack the permission
    assert Customer.objects.count() == 3
