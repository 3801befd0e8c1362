"""/recycle-bin/ and /api/v1/recycle-bin (SPEC §13): who sees what, 恢复, 彻底删除."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kehu.core.testing import assert_query_guard
from kehu.customers.models import Customer
from kehu.customers.services import (
    contact_delete,
    contact_save,
    customer_attach,
    customer_delete,
)
from kehu.recyclebin.models import RecycleEntry

from .helpers import file_exists

pytestmark = pytest.mark.django_db


@pytest.fixture
def binned(org, make_customer, pdf):
    """sales1's customer (with a file) deleted to the bin: its entry."""
    customer = make_customer("sales1", name="回收站页面客户有限公司")
    customer_attach(actor=org["sales1"], customer=customer, files=[pdf()])
    customer_delete(actor=org["sales1"], customer=customer)
    return RecycleEntry.objects.get(object_type="customers.customer", object_id=customer.pk)


def test_the_list_page_shows_the_entry_to_its_owner_and_admins(client_for, binned):
    url = reverse("recyclebin_list")
    own = client_for("sales1").get(url).content.decode()
    assert "回收站页面客户有限公司" in own and "恢复" in own and "彻底删除" not in own
    admin = client_for("admin").get(url).content.decode()
    assert "回收站页面客户有限公司" in admin and "彻底删除" in admin
    other = client_for("sales3").get(url)
    assert other.status_code == 200 and "回收站页面客户有限公司" not in other.content.decode()
    assert client_for("service1").get(url).status_code == 403
    assert client_for("finance1").get(url).status_code == 403


def test_the_sidebar_shows_the_bin_under_settings_to_whoever_may_see_it(client_for):
    assert reverse("recyclebin_list") in client_for("sales1").get("/").content.decode()
    assert reverse("recyclebin_list") in client_for("admin").get("/").content.decode()
    assert reverse("recyclebin_list") not in client_for("service1").get("/").content.decode()


def test_restore_through_the_modal(client_for, binned):
    client = client_for("sales1")
    url = reverse("recyclebin_restore", args=[binned.pk])
    modal = client.get(url, headers={"HX-Request": "true"})
    assert modal.status_code == 200 and "确定恢复吗" in modal.content.decode()
    response = client.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 204 and "objectSaved" in response["HX-Trigger"]
    assert Customer.objects.filter(pk=binned.object_id).exists()
    assert not RecycleEntry.objects.filter(pk=binned.pk).exists()


@pytest.mark.parametrize("who", ["sales2", "sales3"])
def test_another_salesperson_cannot_restore(client_for, binned, who):
    url = reverse("recyclebin_restore", args=[binned.pk])
    assert client_for(who).get(url).status_code == 404
    assert client_for(who).post(url).status_code == 404
    assert not Customer.objects.filter(pk=binned.object_id).exists()


def test_a_conflicting_restore_shows_the_reason_in_the_modal(client_for, binned, make_customer):
    binned.payload[0]["fields"]["credit_code"] = "91350100M000100Y43"
    binned.save(update_fields=["payload"])
    make_customer("sales2", name="占用信用代码有限公司", credit_code="91350100M000100Y43")
    response = client_for("sales1").post(
        reverse("recyclebin_restore", args=[binned.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "统一社会信用代码已被其他记录使用" in response.content.decode()
    assert RecycleEntry.objects.filter(pk=binned.pk).exists()


def test_purge_now_is_for_admins_and_removes_the_file_after_commit(
    client_for, binned, django_capture_on_commit_callbacks
):
    url = reverse("recyclebin_delete", args=[binned.pk])
    assert client_for("sales1").post(url).status_code == 403
    (path,) = binned.file_paths
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("admin").post(url)
        assert file_exists(path)
    assert response.status_code == 302
    assert not RecycleEntry.objects.filter(pk=binned.pk).exists()
    assert not file_exists(path)


def test_the_list_page_query_count_does_not_grow(client_for, org, make_customer):
    client = client_for("sales1")
    url = reverse("recyclebin_list")

    def delete(n):
        for _ in range(n):
            customer_delete(actor=org["sales1"], customer=make_customer("sales1"))

    def fetch():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return queries.captured_queries

    delete(3)
    fetch()
    few = fetch()
    delete(12)
    assert_query_guard(few, fetch(), 20)


def test_api_lists_what_the_page_lists(api_client, binned):
    items = api_client("sales1").get("/api/v1/recycle-bin").json()["items"]
    assert [i["id"] for i in items] == [binned.pk]
    assert items[0]["type_label"] == "客户" and items[0]["row_count"] == binned.row_count
    empty = api_client("sales3").get("/api/v1/recycle-bin").json()
    assert (empty["items"], empty["count"], empty["count_exact"]) == ([], 0, True)
    filtered = api_client("admin").get("/api/v1/recycle-bin", {"object_type": "customers.contact"})
    assert filtered.json()["count"] == 0
    refused = api_client("service1").get("/api/v1/recycle-bin")
    assert refused.status_code == 403 and "回收站" in refused.json()["detail"]


def test_api_restore(api_client, binned):
    path = f"/api/v1/recycle-bin/{binned.pk}/restore"
    assert api_client("sales3").post(path).status_code == 404
    response = api_client("sales1").post(path)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "object_type": "customers.customer",
        "object_id": binned.object_id,
        "display_name": "回收站页面客户有限公司",
    }
    again = api_client("sales1").post(path)
    assert again.status_code == 404 and "回收站记录不存在" in again.json()["detail"]


def test_api_restore_conflict_is_409_in_chinese(api_client, org, make_customer):
    customer = make_customer("sales1")
    contact = contact_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": customer.pk, "name": "将被删除", "mobile": "13912340000"},
    )
    contact_pk = contact.pk
    contact_delete(actor=org["sales1"], instance=contact)
    customer_delete(actor=org["sales1"], customer=customer)
    entry = RecycleEntry.objects.get(object_type="customers.contact", object_id=contact_pk)
    response = api_client("sales1").post(f"/api/v1/recycle-bin/{entry.pk}/restore")
    assert response.status_code == 409
    assert "请先恢复该客户" in response.json()["detail"]
