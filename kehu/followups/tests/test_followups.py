import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kehu.basics.models import DictEntry, DictKind
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Contact, Customer
from kehu.followups.models import FollowUp
from kehu.followups.selectors import followups_due, todo_count
from kehu.followups.services import followup_create

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


def test_followup_moves_customer_times_and_restarts_countdown(org, make_customer):
    customer = make_customer("sales1")
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=29))
    from kehu.pool.rules import refresh_return_due

    refresh_return_due([customer.pk])
    customer.refresh_from_db()
    before_due = customer.pool_return_at
    phone_type = DictEntry.objects.get(kind=DictKind.FOLLOWUP_TYPE, name="电话")
    nxt = timezone.now() + timedelta(days=3)
    followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "电话沟通，需要3吨叉车",
            "type": str(phone_type.pk),
            "next_followup_at": nxt,
        },
    )
    customer.refresh_from_db()
    assert customer.next_followup_at == nxt
    assert customer.last_followup_at is not None
    assert customer.pool_return_at > before_due + timedelta(days=25)


def test_today_list_is_per_owner_and_overdue_flagged(org, make_customer):
    mine = make_customer("sales1", name="今天要跟进")
    late = make_customer("sales1", name="已经逾期")
    other = make_customer("sales2", name="别人的客户")
    now = at(2026, 11, 27, 10)
    Customer.objects.filter(pk=mine.pk).update(next_followup_at=at(2026, 11, 27, 15))
    Customer.objects.filter(pk=late.pk).update(next_followup_at=at(2026, 11, 26, 9))
    Customer.objects.filter(pk=other.pk).update(next_followup_at=at(2026, 11, 27, 11))
    due = followups_due(user=org["sales1"], now=now)
    assert [c.name for c in due["today"]] == ["今天要跟进"]
    assert [c.name for c in due["overdue"]] == ["已经逾期"]
    assert [c.name for c in followups_due(user=org["sales2"], now=now)["today"]] == ["别人的客户"]


def test_half_past_eleven_in_shanghai_is_still_today(org, make_customer):
    customer = make_customer("sales1")
    # 23:30 in Shanghai is 15:30 UTC — the same local day, not tomorrow.
    Customer.objects.filter(pk=customer.pk).update(next_followup_at=at(2026, 11, 27, 23, 30))
    due = followups_due(user=org["sales1"], now=at(2026, 11, 27, 8))
    assert [c.pk for c in due["today"]] == [customer.pk]
    assert list(followups_due(user=org["sales1"], now=at(2026, 11, 28, 0, 5))["overdue"]) == [
        customer
    ]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"content": "  "}, "content", "请填写跟进内容"),
        ({"content": "x", "next_followup_at": "past"}, "next_followup_at", "应晚于本次跟进时间"),
        ({"content": "x", "type": "999999"}, "type", "跟进类型不存在"),
        ({"content": "x", "contact": "other"}, "contact", "联系人不属于该客户"),
    ],
)
def test_bad_input_changes_nothing(org, make_customer, data, field, message):
    customer = make_customer("sales1")
    other = make_customer("sales1")
    data = dict(data)
    if data.get("next_followup_at") == "past":
        data["followed_at"] = timezone.now()
        data["next_followup_at"] = timezone.now() - timedelta(hours=1)
    if data.get("contact") == "other":
        data["contact"] = Contact.objects.filter(customer=other).first().pk
    with pytest.raises(ApplicationError) as exc:
        followup_create(actor=org["sales1"], customer=customer, data=data)
    assert message in exc.value.errors[field][0]
    assert FollowUp.objects.count() == 0
    customer.refresh_from_db()
    assert customer.last_followup_at is None


def test_only_those_who_manage_the_customer_follow_it_up(org, make_customer):
    customer = make_customer("sales1")
    with pytest.raises(Forbidden):
        followup_create(actor=org["sales2"], customer=customer, data={"content": "越权"})
    followup_create(actor=org["manager1"], customer=customer, data={"content": "经理跟进"})
    assert FollowUp.objects.get().author == org["manager1"]


def test_badge_counts_and_todo_page(org, make_customer, client_for):
    customer = make_customer("sales1", name="徽标客户")
    client = client_for("sales1")
    before = todo_count(org["sales1"])
    today = timezone.localdate().isoformat()
    response = client.post(
        f"/customers/{customer.pk}/followups/add/",
        {
            "content": "上门拜访",
            "followed_at": f"{today}T00:00",
            "next_followup_at": f"{today}T23:58",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert todo_count(org["sales1"]) == before + 1
    # the badges load it after the page: the page itself only names where from
    assert client.get("/todo/count/").json() == {
        "count": before + 1,
        "label": str(before + 1),
    }
    listing = client.get("/customers/").content.decode()
    assert 'data-todo-count-url="/todo/count/"' in listing
    page = client.get("/todo/").content.decode()
    assert "徽标客户" in page
    assert "徽标客户" not in client_for("sales2").get("/todo/").content.decode()
    api = client.get("/api/v1/todo").json()
    assert [c["name"] for c in api["followups_today"]] == ["徽标客户"]
    assert api["payment_plans_due"] == [] and api["approvals"] == []


def test_followup_api_scoped_and_validated(org, make_customer, client_for):
    customer = make_customer("sales1")
    client = client_for("sales1")
    created = client.post(
        "/api/v1/followups",
        json.dumps({"customer_id": customer.pk, "content": "微信沟通"}),
        content_type="application/json",
    )
    assert created.status_code == 201
    assert client.get(f"/api/v1/followups?customer_id={customer.pk}").json()["count"] == 1
    assert (
        client_for("sales2").get(f"/api/v1/followups?customer_id={customer.pk}").json()["count"]
        == 0
    )
    assert client_for("sales2").get(f"/api/v1/followups/{created.json()['id']}").status_code == 404
    bad = client.post(
        "/api/v1/followups",
        json.dumps({"customer_id": customer.pk, "content": ""}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["errors"]["content"] == ["请填写跟进内容"]
    hidden = client_for("sales2").post(
        "/api/v1/followups",
        json.dumps({"customer_id": customer.pk, "content": "x"}),
        content_type="application/json",
    )
    assert hidden.status_code == 404


def test_portrait_followup_tab_and_list_page(org, make_customer, client_for):
    customer = make_customer("sales1", name="画像客户")
    followup_create(
        actor=org["sales1"], customer=customer, data={"content": "第一次拜访<b>加粗</b>"}
    )
    client = client_for("sales1")
    page = client.get(f"/customers/{customer.pk}/?tab=followups").content.decode()
    assert "第一次拜访&lt;b&gt;" in page and 'data-testid="followup-add"' in page
    assert "画像客户" in client.get("/followups/").content.decode()
    assert "画像客户" not in client_for("sales3").get("/followups/").content.decode()
