"""The pool's web actions (HTMX modals) and API routes, bad input included."""

import json

import pytest

from kehu.audit.models import ChangeLog
from kehu.customers.models import Customer
from kehu.org.models import User
from kehu.pool.services import claim_customers


def post_json(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def owners(*customers):
    fresh = Customer.objects.select_related("owner").in_bulk([c.pk for c in customers])
    return [fresh[c.pk].owner.username if fresh[c.pk].owner else None for c in customers]


# --- web pages ------------------------------------------------------------------------------


def test_pool_page_lists_pool_customers_with_claim_buttons(org, make_pool_customer, client_for):
    customer = make_pool_customer("sales1", name="公海里的客户")
    html = client_for("sales2").get("/pool/").content.decode()
    assert "客户公海" in html and "公海里的客户" in html
    assert f'data-testid="claim-{customer.pk}"' in html
    assert "总共 1 条记录" in html


def test_claim_from_the_pool_page_reports_in_a_modal(org, make_pool_customer, client_for):
    customer = make_pool_customer("sales1")
    response = client_for("sales2").post("/pool/claim/", {"pk": customer.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="batch-result"' in html
    assert "成功 <strong>1</strong> 条" in html
    assert response["HX-Trigger"] == "objectSaved"
    assert owners(customer) == ["sales2"]


def test_batch_claim_from_the_page_lists_the_refusals(
    org, make_customer, make_pool_customer, client_for
):
    free, taken = make_pool_customer("sales1"), make_pool_customer("sales1")
    claim_customers(actor=org["sales3"], ids=[taken.pk])
    response = client_for("sales2").post("/pool/claim/", {"pk": [free.pk, taken.pk]})
    html = response.content.decode()
    assert "成功 <strong>1</strong> 条" in html and "未处理" in html
    # the refused customer by its name, not its id (issue 14.5)
    assert "已被他人领取" in html and f"<td>{taken.name}</td>" in html
    assert owners(free, taken) == ["sales2", "sales3"]


def test_claim_page_without_a_selection(org, client_for):
    response = client_for("sales2").post("/pool/claim/", {})
    assert "请先勾选要操作的记录" in response.content.decode()
    assert not response.has_header("HX-Trigger")


def test_claim_page_needs_the_claim_permission(org, make_pool_customer, client_for):
    customer = make_pool_customer("sales1")
    assert client_for("finance1").post("/pool/claim/", {"pk": customer.pk}).status_code == 403
    assert owners(customer) == [None]


def test_release_is_two_steps_and_logs_the_reason(org, make_customer, client_for):
    customer = make_customer("sales1")
    client = client_for("sales1")
    first = client.post("/customers/release/", {"pk": customer.pk})
    html = first.content.decode()
    assert first.status_code == 200
    assert "放入公海" in html and "原因（选填）" in html
    assert '<input type="hidden" name="confirm" value="1">' in html
    assert f'<input type="hidden" name="pk" value="{customer.pk}">' in html
    assert owners(customer) == ["sales1"]  # nothing happens before the confirmation
    done = client.post(
        "/customers/release/", {"pk": customer.pk, "confirm": "1", "reason": "多次联系无果"}
    )
    assert "成功 <strong>1</strong> 条" in done.content.decode()
    assert done["HX-Trigger"] == "objectSaved"
    assert owners(customer) == [None]
    entry = ChangeLog.objects.get(object_id=customer.pk, action="to_pool")
    assert entry.message == "放入公海：多次联系无果"


def test_release_form_opens_for_one_row_with_get(org, make_customer, client_for):
    customer = make_customer("sales1")
    html = client_for("sales1").get(f"/customers/release/?pk={customer.pk}").content.decode()
    assert "原因（选填）" in html and f'name="pk" value="{customer.pk}"' in html


def test_release_page_refuses_others_customers_per_row(org, make_customer, client_for):
    customer = make_customer("sales1")
    response = client_for("sales2").post("/customers/release/", {"pk": customer.pk, "confirm": "1"})
    html = response.content.decode()
    assert "成功 <strong>0</strong> 条" in html and "客户不存在或无权查看" in html
    assert owners(customer) == ["sales1"]
    assert (
        client_for("finance1").post("/customers/release/", {"pk": customer.pk}).status_code == 403
    )


def test_transfer_is_two_steps_with_users_and_allocation(org, make_customer, client_for):
    customers = [make_customer("sales1") for _ in range(3)]
    client = client_for("manager1")
    pks = [c.pk for c in customers]
    first = client.post("/customers/transfer/", {"pk": pks})
    html = first.content.decode()
    assert first.status_code == 200
    assert "目标员工" in html and "分配方式" in html
    assert "平均分配" in html and "随机分配" in html
    assert 'data-testid="selected-count">3<' in html
    assert owners(*customers) == ["sales1"] * 3
    done = client.post(
        "/customers/transfer/",
        {
            "pk": pks,
            "confirm": "1",
            "users": [org["sales2"].pk, org["sales3"].pk],
            "allocation": "even",
        },
    )
    assert "成功 <strong>3</strong> 条" in done.content.decode()
    assert owners(*customers) == ["sales2", "sales3", "sales2"]
    assert ChangeLog.objects.filter(action="transfer").count() == 3


@pytest.mark.parametrize(
    ("users", "allocation", "message"),
    [
        ([], "even", "请至少选择一名目标员工"),
        (["sales2"], "weird", "选择一个有效的选项。 weird 不在可用的选项中。"),
        (["gone"], "even", "目标员工不能负责客户或不在您的管理范围内"),
    ],
)
def test_transfer_form_errors_change_nothing(
    org, make_customer, client_for, users, allocation, message
):
    gone = User.objects.create(username="gone", name="离职员工", is_active=False)
    customer = make_customer("sales1")
    user_ids = [{"sales2": org["sales2"], "gone": gone}[u].pk for u in users]
    response = client_for("manager1").post(
        "/customers/transfer/",
        {"pk": customer.pk, "confirm": "1", "allocation": allocation, "users": user_ids},
    )
    assert response.status_code == 400
    assert message.format(gone=gone.pk) in response.content.decode()
    assert owners(customer) == ["sales1"]
    assert not ChangeLog.objects.filter(action="transfer").exists()


def test_transfer_page_refuses_read_only_roles(org, make_customer, client_for):
    customer = make_customer("sales1")
    response = client_for("finance1").post(
        "/customers/transfer/",
        {"pk": customer.pk, "confirm": "1", "users": [org["sales2"].pk], "allocation": "even"},
    )
    assert response.status_code == 403
    assert "没有转移客户的权限" in response.content.decode()
    assert owners(customer) == ["sales1"]


# --- API ------------------------------------------------------------------------------------


def test_api_release_claim_and_transfer(org, make_customer, api_client):
    customers = [make_customer("sales1") for _ in range(3)]
    ids = [c.pk for c in customers]
    response = post_json(
        api_client("sales1"), "/api/v1/customers/to-pool", {"ids": ids[:2], "reason": "试用"}
    )
    assert response.status_code == 200
    assert response.json() == {"done": ids[:2], "refused": []}
    assert owners(*customers) == [None, None, "sales1"]
    response = post_json(api_client("sales2"), "/api/v1/pool/claim", {"ids": ids[:2]})
    assert response.json() == {"done": ids[:2], "refused": []}
    assert owners(*customers) == ["sales2", "sales2", "sales1"]
    response = post_json(
        api_client("manager1"),
        "/api/v1/customers/transfer",
        {"ids": ids, "user_ids": [org["sales3"].pk, org["sales1"].pk], "allocation": "even"},
    )
    assert response.status_code == 200
    # even over [sales3, sales1], in the given order: sales3, sales1, sales3.
    assert response.json() == {"done": ids, "refused": []}
    assert owners(*customers) == ["sales3", "sales1", "sales3"]


def test_api_even_transfer_splits_three_two(org, make_customer, api_client):
    customers = [make_customer("sales1") for _ in range(5)]
    response = post_json(
        api_client("manager1"),
        "/api/v1/customers/transfer",
        {"ids": [c.pk for c in customers], "user_ids": [org["sales2"].pk, org["sales3"].pk]},
    )
    assert response.status_code == 200 and len(response.json()["done"]) == 5
    assert owners(*customers) == ["sales2", "sales3", "sales2", "sales3", "sales2"]


def test_api_claim_of_a_private_customer_is_refused_per_customer(org, make_customer, api_client):
    customer = make_customer("sales1")
    response = post_json(api_client("sales2"), "/api/v1/pool/claim", {"ids": [customer.pk]})
    assert response.status_code == 200
    assert response.json() == {
        "done": [],
        "refused": [{"id": customer.pk, "reason": "客户不存在或无权查看"}],
    }
    assert owners(customer) == ["sales1"]


@pytest.mark.parametrize(
    ("url", "payload", "detail", "field"),
    [
        ("/api/v1/pool/claim", {"ids": []}, "输入有误，请检查后重试", "ids"),
        ("/api/v1/customers/to-pool", {"ids": []}, "输入有误，请检查后重试", "ids"),
        (
            "/api/v1/customers/transfer",
            {"ids": [], "user_ids": ["sales2"]},
            "输入有误，请检查后重试",
            "ids",
        ),
        (
            "/api/v1/customers/transfer",
            {"ids": ["c"], "user_ids": ["sales2"], "allocation": "weird"},
            "分配方式无效",
            "allocation",
        ),
        (
            "/api/v1/customers/transfer",
            {"ids": ["c"], "user_ids": []},
            "请选择目标员工",
            "user_ids",
        ),
        (
            "/api/v1/customers/transfer",
            {"ids": ["c"], "user_ids": ["gone"]},
            "目标员工不存在或已停用",
            "user_ids",
        ),
    ],
)
def test_api_bad_input_is_a_chinese_400_and_changes_nothing(
    org, make_customer, api_client, url, payload, detail, field
):
    customer = make_customer("sales1")
    gone = User.objects.create(username="gone", name="离职员工", is_active=False)
    ref = {"c": customer.pk, "sales2": org["sales2"].pk, "gone": gone.pk}
    payload = {k: [ref[x] for x in v] if isinstance(v, list) else v for k, v in payload.items()}
    response = post_json(api_client("manager1"), url, payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == detail
    assert field in body["errors"]
    assert all(not m.isascii() for messages in body["errors"].values() for m in messages)
    assert owners(customer) == ["sales1"]
    assert not ChangeLog.objects.filter(action__in=["transfer", "to_pool", "claim"]).exists()


@pytest.mark.parametrize(
    ("username", "url"),
    [
        ("finance1", "/api/v1/customers/transfer"),
        ("service1", "/api/v1/customers/transfer"),
        ("finance1", "/api/v1/customers/to-pool"),
        ("service1", "/api/v1/customers/to-pool"),
        ("finance1", "/api/v1/pool/claim"),
    ],
)
def test_api_refuses_roles_without_the_permission(org, make_customer, api_client, username, url):
    customer = make_customer("sales1")
    payload = {"ids": [customer.pk], "user_ids": [org["sales2"].pk]}
    response = post_json(api_client(username), url, payload)
    assert response.status_code == 403
    assert owners(customer) == ["sales1"]


def test_api_pool_list_rejects_unknown_filters_values(org, api_client):
    response = api_client("sales1").get("/api/v1/pool/customers?ordering=password")
    assert response.status_code == 400 and "不支持的排序字段" in response.json()["detail"]
    assert api_client("sales1").get("/api/v1/pool/customers?ordering=-pooled_at").status_code == 200


def test_pool_lists_cost_the_same_queries_for_3_and_for_25_customers(
    org, make_pool_customer, client_for, api_client
):
    """Every relation a row shows (行业, 等级, 来源, 标签, 原负责人, 公海) is read with the page, not
    once per row: the page and the API answer in as many queries for 25 rows as for 3."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.basics.models import DictEntry, DictKind

    def entry(kind):
        return str(DictEntry.objects.filter(kind=kind).order_by("id").first().pk)

    relations = {
        "industry": entry(DictKind.INDUSTRY),
        "level": entry(DictKind.LEVEL),
        "source": entry(DictKind.SOURCE),
        "tags": [entry(DictKind.TAG)],
    }

    def costs():
        web, api = client_for("sales2"), api_client("sales2")
        web.get("/pool/")
        api.get("/api/v1/pool/customers")
        with CaptureQueriesContext(connection) as page:
            html = web.get("/pool/?per_page=50").content.decode()
        with CaptureQueriesContext(connection) as listed:
            body = api.get("/api/v1/pool/customers?page_size=50").json()
        return len(page), len(listed), html, body

    for i in range(3):
        make_pool_customer("sales1", name=f"公海少量{i}", **relations)
    few_page, few_api, _, body = costs()
    assert body["count"] == 3 and all(item["source"] for item in body["items"])
    for i in range(22):
        make_pool_customer("sales1", name=f"公海大量{i}", **relations)
    many_page, many_api, html, body = costs()
    assert "总共 25 条记录" in html and body["count"] == 25
    assert (many_page, many_api) == (few_page, few_api)
