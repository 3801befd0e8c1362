"""SPEC §1 visibility over every tab, the detail page, search, duplicate check and the API."""

import json

import pytest

from kehu.customers.models import Customer
from kehu.customers.selectors import customer_list
from kehu.customers.services import customer_share


@pytest.fixture
def world(org, make_customer):
    a = make_customer("sales1", name="甲物流有限公司")
    b = make_customer("sales2", name="乙仓储有限公司")
    c = make_customer("sales3", name="丙食品有限公司")
    m = make_customer("manager1", name="丁建材有限公司")
    p = make_customer("sales1", name="戊公海有限公司")
    Customer.objects.filter(pk=p.pk).update(owner=None, previous_owner=org["sales1"])
    customer_share(actor=org["sales2"], customer=b, user_ids=[org["sales1"].pk])
    return {"A": a, "B": b, "C": c, "M": m, "P": p}


EXPECTED = {
    # user: {tab: names}
    "admin": {
        "all": "ABCM",
        "mine": "",
        "subordinates": "",
        "shared_by_me": "",
        "shared_with_me": "",
    },
    "manager1": {
        "all": "ABCM",
        "mine": "M",
        "subordinates": "ABC",
        "shared_by_me": "",
        "shared_with_me": "",
    },
    "sales1": {
        "all": "AB",
        "mine": "A",
        "subordinates": "",
        "shared_by_me": "",
        "shared_with_me": "B",
    },
    "sales2": {
        "all": "B",
        "mine": "B",
        "subordinates": "",
        "shared_by_me": "B",
        "shared_with_me": "",
    },
    "sales3": {
        "all": "C",
        "mine": "C",
        "subordinates": "",
        "shared_by_me": "",
        "shared_with_me": "",
    },
    "service1": {
        "all": "",
        "mine": "",
        "subordinates": "",
        "shared_by_me": "",
        "shared_with_me": "",
    },
    "finance1": {
        "all": "ABCM",
        "mine": "",
        "subordinates": "",
        "shared_by_me": "",
        "shared_with_me": "",
    },
}


def _keys(world, customers):
    by_id = {c.pk: k for k, c in world.items()}
    return "".join(sorted(by_id[c.pk] for c in customers))


@pytest.mark.parametrize("username", EXPECTED)
def test_selector_tabs_per_role(world, org, username):
    for tab, expected in EXPECTED[username].items():
        got = _keys(world, customer_list(user=org[username], tab=tab))
        assert got == expected, f"{username} {tab}"


@pytest.mark.parametrize("username", EXPECTED)
def test_api_tabs_per_role(world, client_for, username):
    client = client_for(username)
    by_id = {c.pk: k for k, c in world.items()}
    for tab, expected in EXPECTED[username].items():
        response = client.get(f"/api/v1/customers?tab={tab}&page_size=100")
        assert response.status_code == 200
        body = response.json()
        assert "".join(sorted(by_id[i["id"]] for i in body["items"])) == expected, (
            f"{username} {tab}"
        )
        assert body["count"] == len(expected)


@pytest.mark.parametrize("username", ["sales1", "sales3", "manager1"])
def test_list_page_shows_only_visible_names(world, client_for, username):
    html = client_for(username).get("/customers/?per_page=100").content.decode()
    for key, customer in world.items():
        assert (customer.name in html) == (key in EXPECTED[username]["all"]), f"{username} {key}"


def test_detail_and_api_hide_invisible_customers_as_404(world, client_for):
    client = client_for("sales3")
    a = world["A"]
    assert client.get(f"/customers/{a.pk}/").status_code == 404
    assert client.get(f"/customers/{a.pk}/edit/").status_code == 404
    response = client.get(f"/api/v1/customers/{a.pk}")
    assert response.status_code == 404
    assert response.json()["detail"] == "客户不存在或无权查看"
    response = client.patch(
        f"/api/v1/customers/{a.pk}",
        json.dumps({"remark": "x", "version": 1}),
        content_type="application/json",
    )
    assert response.status_code == 404
    # A pool customer is visible, masked, to whoever browses its pool (SPEC §3).
    pooled = client.get(f"/api/v1/customers/{world['P'].pk}")
    assert pooled.status_code == 200 and pooled.json()["in_pool"]
    assert client_for("service1").get(f"/api/v1/customers/{world['P'].pk}").status_code == 404


def test_shared_customer_is_readable_but_not_editable(world, client_for):
    client = client_for("sales1")
    b = world["B"]
    assert client.get(f"/customers/{b.pk}/").status_code == 200
    response = client.patch(
        f"/api/v1/customers/{b.pk}",
        json.dumps({"remark": "改", "version": b.version}),
        content_type="application/json",
    )
    assert response.status_code == 403
    b.refresh_from_db()
    assert b.remark == ""


def test_search_cannot_reach_invisible_customers(world, client_for):
    client = client_for("sales3")
    body = client.get("/api/v1/customers?name=甲物流").json()
    assert body["count"] == 0
    html = client.get("/customers/?name=甲物流").content.decode()
    assert "甲物流有限公司" not in html


def test_duplicate_check_tells_existence_and_owner_only(world, client_for, org):
    client = client_for("sales3")
    response = client.post(
        "/api/v1/customers/duplicate-check",
        json.dumps({"name": "甲物流"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    (match,) = response.json()["matches"]
    assert match["name"] == "甲物流有限公司"
    assert match["owner_name"] == org["sales1"].display_name
    assert world["A"].contact_phone not in response.content.decode()
    html = client.get("/customers/duplicate-check/?name=甲物流").content.decode()
    assert "甲物流有限公司" in html and world["A"].contact_phone not in html
    pool = client.post(
        "/api/v1/customers/duplicate-check",
        json.dumps({"name": "戊公海"}),
        content_type="application/json",
    ).json()["matches"]
    assert pool[0]["in_pool"] is True and pool[0]["owner_name"] is None
