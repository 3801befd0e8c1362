"""Documents in the 回收站 (SPEC §13): a contract draft goes with its line items, approval
records and attachment rows, and comes back identical."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers

from kehu.core.attachments import attach_files
from kehu.core.errors import ApplicationError
from kehu.customers.services import customer_delete
from kehu.documents import approval
from kehu.documents.models import ApprovalRecord
from kehu.documents.services import document_delete, document_save
from kehu.documents.types import registry
from kehu.recyclebin.filters import RecycleEntryFilterSet
from kehu.recyclebin.models import RecycleEntry
from kehu.recyclebin.selectors import recycle_entry_list
from kehu.recyclebin.services import restore
from kehu.sales.models import Contract, ContractItem

from .helpers import file_exists

pytestmark = pytest.mark.django_db
CONTRACT = registry["contract"]


def contract_rows(pk: int) -> list[dict]:
    from kehu.core.models import Attachment

    querysets = [
        Contract.objects.filter(pk=pk),
        ContractItem.objects.filter(document_id=pk),
        ApprovalRecord.objects.filter(doc_type="contract", document_id=pk),
        Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(Contract), object_id=pk
        ),
    ]
    rows = []
    for qs in querysets:
        rows += serializers.serialize("python", qs.order_by("pk"))
    return rows


@pytest.fixture
def draft(org, make_customer, pdf):
    customer = make_customer("sales1")
    doc = document_save(
        CONTRACT,
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "整车销售合同",
            "kind": "vehicle",
            "items": [
                {"name": "3吨叉车", "quantity": "2", "unit_price": "85000", "discount": "1000"},
                {"name": "货叉", "quantity": "4", "unit_price": "1200.50"},
            ],
        },
    )
    approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
    approval.withdraw(CONTRACT, actor=org["sales1"], doc=doc)  # back to 未申请, two records
    attach_files(actor=org["sales1"], obj=doc, files=[pdf("合同扫描件.pdf")])
    return Contract.objects.get(pk=doc.pk)


def test_a_contract_draft_goes_with_its_items_and_records_and_comes_back(org, draft):
    pk = draft.pk
    before = contract_rows(pk)
    assert [r["model"] for r in before].count("sales.contractitem") == 2
    assert [r["model"] for r in before].count("documents.approvalrecord") == 2
    (path,) = [r["fields"]["file"] for r in before if r["model"] == "core.attachment"]

    document_delete(CONTRACT, actor=org["sales1"], instance=draft)

    assert contract_rows(pk) == []
    assert file_exists(path)
    entry = RecycleEntry.objects.get(object_type="sales.contract", object_id=pk)
    assert entry.customer_id == draft.customer_id and entry.owner_id == org["sales1"].pk
    assert entry.display_name == str(draft) and entry.row_count == len(before)
    assert entry.file_paths == [path]
    listed = RecycleEntryFilterSet(
        {"object_type": "sales.contract"}, queryset=recycle_entry_list(user=org["sales1"])
    )
    assert listed.is_valid() and list(listed.qs) == [entry]

    restore(actor=org["sales1"], entry=entry)

    assert contract_rows(pk) == before
    assert file_exists(path)


def test_a_document_needs_its_customer_back_first(org, draft):
    pk, customer = draft.pk, draft.customer
    document_delete(CONTRACT, actor=org["sales1"], instance=draft)
    customer_delete(actor=org["sales1"], customer=customer)  # no document holds it any more
    entry = RecycleEntry.objects.get(object_type="sales.contract", object_id=pk)
    with pytest.raises(ApplicationError) as exc:
        restore(actor=org["sales1"], entry=entry)
    assert exc.value.status == 409 and "请先恢复" in exc.value.message
    assert not Contract.objects.filter(pk=pk).exists()
    restore(
        actor=org["sales1"],
        entry=RecycleEntry.objects.get(object_type="customers.customer", object_id=customer.pk),
    )
    restore(actor=org["sales1"], entry=entry)
    assert Contract.objects.filter(pk=pk, customer_id=customer.pk).exists()
