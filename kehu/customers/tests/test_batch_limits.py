"""Issue 10, point 4: batch requests name at most ``KEHU_BATCH_MAX_IDS`` ids, and 批量删除 of
customers is set-based (a constant number of queries whatever the batch size) with the same
per-row refusals as deleting one customer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from kehu.audit.models import Action, ChangeLog
from kehu.basics.models import DictEntry, DictKind
from kehu.core import registry
from kehu.core.errors import ApplicationError
from kehu.core.services import batch_limit_message
from kehu.customers.models import Contact, Customer
from kehu.customers.services import customer_delete, customers_batch_delete
from kehu.followups.models import FollowUp
from kehu.org.auth import issue_token

LIMIT_MESSAGE = '一次最多处理500条，请分批操作（"全部符合条件的记录"仅用于删除客户）'
BATCH_APIS = [
    ("/api/v1/customers/batch-delete", {}),
    ("/api/v1/customers/to-pool", {"reason": "批量"}),
    ("/api/v1/customers/transfer", {"user_ids": [1]}),
    ("/api/v1/pool/claim", {}),
]
BATCH_PAGES = [
    "/customers/bulk-delete/",
    "/pool/claim/",
    "/customers/release/",
    "/customers/transfer/",
    "/pool/move/",
]


@pytest.fixture
def api_for(org):
    def make(username: str) -> Client:
        return Client(headers={"Authorization": f"Bearer {issue_token(org[username])}"})

    return make


def test_the_limit_message_is_the_one_the_issue_asks_for(settings):
    assert settings.KEHU_BATCH_MAX_IDS == 500
    assert batch_limit_message() == LIMIT_MESSAGE


# --- the limit: API ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url, extra", BATCH_APIS)
def test_an_api_batch_over_the_limit_is_400_with_the_message(api_for, url, extra):
    response = api_for("admin").post(
        url, {"ids": list(range(1, 502)), **extra}, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == LIMIT_MESSAGE
    assert body["code"] == "too_many_ids"
    assert body["errors"]["ids"] == [LIMIT_MESSAGE]


@pytest.mark.django_db
@pytest.mark.parametrize("url, extra", BATCH_APIS)
def test_an_api_batch_at_the_limit_is_answered(api_for, url, extra):
    response = api_for("admin").post(
        url, {"ids": list(range(10**6, 10**6 + 500)), **extra}, content_type="application/json"
    )
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:  # every id refused one by one (none exists)
        assert len(response.json()["refused"]) == 500
    else:  # refused for another reason (e.g. the target user), never for the count
        assert response.json().get("code") != "too_many_ids"


@pytest.mark.django_db
def test_the_limit_is_a_setting(api_for, settings):
    settings.KEHU_BATCH_MAX_IDS = 3
    response = api_for("admin").post(
        "/api/v1/customers/batch-delete", {"ids": [1, 2, 3, 4]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("一次最多处理3条")
    ok = api_for("admin").post(
        "/api/v1/customers/batch-delete", {"ids": [1, 2, 3]}, content_type="application/json"
    )
    assert ok.status_code == 200


@pytest.mark.django_db
def test_the_service_refuses_an_oversized_batch_too(org):
    with pytest.raises(ApplicationError) as caught:
        customers_batch_delete(actor=org["admin"], ids=list(range(1, 502)))
    assert caught.value.message == LIMIT_MESSAGE
    assert caught.value.status == 400


# --- the limit: web pages (the batch modal) -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", BATCH_PAGES)
def test_a_web_batch_over_the_limit_shows_the_message_in_the_modal(client_for, url):
    client = client_for("admin")
    response = client.post(
        url, {"pk": [str(i) for i in range(1, 502)], "confirm": "1"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert escape(LIMIT_MESSAGE) in response.content.decode()


@pytest.mark.django_db
def test_a_web_batch_form_opened_with_too_many_ids_shows_the_message(client_for):
    query = "&".join(f"pk={i}" for i in range(1, 502))
    response = client_for("admin").get(f"/customers/transfer/?{query}")
    assert response.status_code == 400
    assert escape(LIMIT_MESSAGE) in response.content.decode()


@pytest.mark.django_db
def test_duplicate_ids_count_once(client_for, make_customer, settings):
    settings.KEHU_BATCH_MAX_IDS = 2
    customer = make_customer("sales1")
    response = client_for("sales1").post(
        "/customers/bulk-delete/", {"pk": [customer.pk] * 5}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert not Customer.objects.filter(pk=customer.pk).exists()


# --- set-based 批量删除 --------------------------------------------------------------------------


@pytest.fixture
def customers(make_customer):
    def make(n: int, owner: str = "sales1"):
        created = [make_customer(owner) for _ in range(n)]
        for customer in created:
            FollowUp.objects.create(customer=customer, content="电话沟通", author=customer.owner)
            Contact.objects.create(customer=customer, name="第二联系人", mobile="13700000000")
        return created

    return make


def _opportunity(org, customer):
    from kehu.sales.services import opportunity_save

    return opportunity_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": customer, "name": "叉车", "budget": "1000", "product_price": "1"},
    )


def _quote(org, customer):
    from kehu.documents.services import document_save
    from kehu.documents.types import registry as document_types

    return document_save(
        document_types["quote"], actor=org["sales1"], instance=None, data={"customer": customer.pk}
    )


@pytest.mark.django_db
def test_batch_delete_deletes_the_deletable_and_says_why_for_each_refused(
    org, customers, make_customer
):
    free_a, free_b, with_deal, with_quote, owing = customers(5)
    _opportunity(org, with_deal)
    _quote(org, with_quote)
    Customer.objects.filter(pk=owing.pk).update(receivable_vehicle=100)
    foreign = make_customer("sales3")  # another department: not visible to sales1
    ids = [free_a.pk, with_deal.pk, with_quote.pk, owing.pk, foreign.pk, 10**12, free_b.pk]

    result = customers_batch_delete(actor=org["sales1"], ids=ids + [free_a.pk])

    assert result.done == [free_a.pk, free_b.pk]
    assert result.refused == [
        {"id": with_deal.pk, "reason": "该客户有商机，不能删除"},
        {"id": with_quote.pk, "reason": "该客户有报价单，不能删除"},
        {"id": owing.pk, "reason": "该客户有待收款金额，不能删除"},
        {"id": foreign.pk, "reason": "客户不存在或无权查看"},
        {"id": 10**12, "reason": "客户不存在或无权查看"},
    ]
    assert set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True)) == {
        with_deal.pk,
        with_quote.pk,
        owing.pk,
        foreign.pk,
    }
    assert not Contact.objects.filter(customer_id__in=[free_a.pk, free_b.pk]).exists()
    assert not FollowUp.objects.filter(customer_id__in=[free_a.pk, free_b.pk]).exists()


@pytest.mark.django_db
def test_a_visible_customer_the_user_may_not_delete_is_refused_with_the_reason(org, make_customer):
    from kehu.customers.services import customer_share

    theirs = make_customer("sales2")
    customer_share(actor=org["sales2"], customer=theirs, user_ids=[org["sales3"].pk])
    result = customers_batch_delete(actor=org["sales3"], ids=[theirs.pk])
    assert result.done == []
    assert result.refused[0]["id"] == theirs.pk
    assert "负责人" in result.refused[0]["reason"]
    assert Customer.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
def test_batch_delete_logs_each_customer_with_its_contacts_and_tags(org, customers):
    tag = DictEntry.objects.filter(kind=DictKind.TAG).first()
    first, second = customers(2)
    if tag is not None:
        first.tags.add(tag)
    customers_batch_delete(actor=org["sales1"], ids=[first.pk, second.pk])
    logs = {
        row.object_id: row
        for row in ChangeLog.objects.filter(
            action=Action.DELETE,
            object_type="customers.customer",
            object_id__in=[first.pk, second.pk],
        )
    }
    assert set(logs) == {first.pk, second.pk}
    snap = logs[first.pk].snapshot
    assert snap["name"] == first.name
    assert [c["name"] for c in snap["contacts"]] == ["联系人", "第二联系人"]
    assert snap["tags"] == ([tag.pk] if tag is not None else [])
    assert logs[first.pk].actor_id == org["sales1"].pk


@pytest.mark.django_db
def test_batch_deleted_customers_go_to_the_recycle_bin_one_entry_each(org, customers):
    from kehu.recyclebin.models import RecycleEntry

    batch = customers(3)
    customers_batch_delete(actor=org["sales1"], ids=[c.pk for c in batch])
    entries = RecycleEntry.objects.filter(object_type="customers.customer")
    assert sorted(e.object_id for e in entries) == sorted(c.pk for c in batch)
    assert all(e.row_count >= 4 for e in entries)  # customer, 2 contacts, follow-up (, tags)


@pytest.mark.django_db
def test_batch_delete_costs_the_same_queries_for_5_and_for_40_customers(org, customers):
    def queries(n: int) -> int:
        batch = customers(n)
        with CaptureQueriesContext(connection) as captured:
            result = customers_batch_delete(actor=org["admin"], ids=[c.pk for c in batch])
        assert len(result.done) == n
        return len(captured)

    small, large = queries(5), queries(40)
    assert large == small, (small, large)
    assert small < 60


@pytest.mark.django_db
def test_the_guards_refuse_a_single_delete_as_before(org, customers):
    with_deal, with_quote = customers(2)
    _opportunity(org, with_deal)
    _quote(org, with_quote)
    for customer, reason in ((with_deal, "该客户有商机"), (with_quote, "该客户有报价单")):
        with pytest.raises(ApplicationError) as caught:
            customer_delete(actor=org["sales1"], customer=customer)
        assert caught.value.message.startswith(reason)


@pytest.mark.django_db
def test_a_per_row_guard_still_works_beside_the_set_based_ones(org, customers, monkeypatch):
    guards = list(registry.delete_guards["customers.customer"])

    def no_vip(customer):
        return "VIP客户不能删除" if customer.name.startswith("VIP") else None

    monkeypatch.setitem(registry.delete_guards, "customers.customer", [*guards, no_vip])
    plain, vip = customers(2)
    Customer.objects.filter(pk=vip.pk).update(name="VIP客户")
    result = customers_batch_delete(actor=org["sales1"], ids=[plain.pk, vip.pk])
    assert result.done == [plain.pk]
    assert result.refused == [{"id": vip.pk, "reason": "VIP客户不能删除"}]
    vip.refresh_from_db()
    assert registry.delete_refusal(vip) == "VIP客户不能删除"


@pytest.mark.django_db
def test_the_api_answers_done_and_refused(org, customers):
    batch = customers(3)
    _opportunity(org, batch[1])
    client = Client(headers={"Authorization": f"Bearer {issue_token(org['sales1'])}"})
    response = client.post(
        "/api/v1/customers/batch-delete",
        {"ids": [c.pk for c in batch]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "done": [batch[0].pk, batch[2].pk],
        "refused": [{"id": batch[1].pk, "reason": "该客户有商机，不能删除"}],
    }


# --- 全部符合条件的记录: a background job with progress ------------------------------------------


@pytest.fixture
def matching(make_customer, org):
    """Five 清仓 customers of sales1 (one with a 商机) and two others that must stay."""
    names = [f"清仓客户{i}有限公司" for i in range(5)]
    chosen = [make_customer("sales1", name=n) for n in names]
    _opportunity(org, chosen[2])
    others = [make_customer("sales1", name="保留客户有限公司"), make_customer("sales2")]
    return chosen, others


@pytest.mark.django_db
def test_deleting_all_matching_records_runs_as_a_job_in_batches(
    client_for, matching, settings, django_capture_on_commit_callbacks
):
    from kehu.core.models import BatchJob

    settings.KEHU_BATCH_MAX_IDS = 2  # three chunks for five customers
    chosen, others = matching
    client = client_for("sales1")
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs inline in tests
        started = client.post(
            "/customers/bulk-delete-matching/",
            {"tab": "mine", "name": "清仓", "per_page": "20", "page": "3"},
            headers={"HX-Request": "true"},
        )
    assert started.status_code == 200, started.content
    assert 'data-testid="batch-job"' in started.content.decode()
    job = BatchJob.objects.get()
    assert (job.total, job.processed, job.done, job.refused) == (5, 5, 4, 1)
    assert job.status == "done" and job.params == {"tab": ["mine"], "name": ["清仓"]}
    assert job.refusals == [{"id": chosen[2].pk, "reason": "该客户有商机，不能删除"}]
    assert list(Customer.objects.filter(name__startswith="清仓")) == [chosen[2]]
    assert all(Customer.objects.filter(pk=c.pk).exists() for c in others)

    progress = client.get(f"/batch-jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert progress.status_code == 200
    text = progress.content.decode()
    assert 'data-status="done"' in text and "该客户有商机，不能删除" in text
    assert progress["HX-Trigger"] == "objectSaved"  # the list refreshes


@pytest.mark.django_db
def test_a_queued_job_shows_its_progress_and_polls(client_for, matching):
    from kehu.core.models import BatchJob

    client = client_for("sales1")
    started = client.post("/customers/bulk-delete-matching/", {"tab": "mine", "name": "清仓"})
    assert started.status_code == 200
    job = BatchJob.objects.get()
    assert job.status == "queued" and job.total == 5  # nothing committed: not run yet
    text = started.content.decode()
    assert "共 <strong>5</strong> 条符合条件" in text
    assert f'hx-get="/batch-jobs/{job.pk}/" hx-trigger="load delay:1s"' in text
    # one job at a time per user
    again = client.post("/customers/bulk-delete-matching/", {"tab": "mine", "name": "清仓"})
    assert again.status_code == 409
    assert "已有一个批量任务在进行中" in again.content.decode()
    # someone else's job is not theirs to follow
    assert client_for("sales2").get(f"/batch-jobs/{job.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_matching_job_is_refused_for_nothing_bad_filters_or_no_permission(client_for, matching):
    client = client_for("sales1")
    nothing = client.post("/customers/bulk-delete-matching/", {"name": "不存在的名字"})
    assert nothing.status_code == 400 and "没有符合条件的记录" in nothing.content.decode()
    bad = client.post("/customers/bulk-delete-matching/", {"owner": "99999999999999999999"})
    assert bad.status_code == 400 and "筛选条件有误" in bad.content.decode()
    tab = client.post("/customers/bulk-delete-matching/", {"tab": "nope"})
    assert tab.status_code == 400
    assert client_for("finance1").post("/customers/bulk-delete-matching/", {}).status_code == 403


@pytest.mark.django_db
def test_the_list_offers_the_matching_action_with_the_search_form(client_for):
    text = client_for("sales1").get("/customers/").content.decode()
    assert "删除全部符合条件的记录" in text
    assert 'hx-post="/customers/bulk-delete-matching/" hx-include="#search-panel form"' in text


@pytest.mark.django_db
def test_the_api_starts_a_matching_job_and_reports_its_progress(
    api_for, matching, settings, django_capture_on_commit_callbacks
):
    settings.KEHU_BATCH_MAX_IDS = 3
    chosen, others = matching
    client = api_for("sales1")
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            "/api/v1/customers/batch-delete-matching",
            {"tab": "mine", "filters": {"name": "清仓"}},
            content_type="application/json",
        )
    assert started.status_code == 202, started.content
    job_id = started.json()["id"]
    assert started.json()["total"] == 5
    progress = client.get(f"/api/v1/batch-jobs/{job_id}")
    assert progress.status_code == 200
    body = progress.json()
    assert (body["status"], body["done"], body["refused"], body["percent"]) == ("done", 4, 1, 100)
    assert body["refusals"] == [{"id": chosen[2].pk, "reason": "该客户有商机，不能删除"}]
    assert api_for("sales2").get(f"/api/v1/batch-jobs/{job_id}").status_code == 404
    nothing = client.post(
        "/api/v1/customers/batch-delete-matching",
        {"filters": {"name": "不存在"}},
        content_type="application/json",
    )
    assert nothing.status_code == 400 and nothing.json()["detail"] == "没有符合条件的记录"
