"""SPEC §3 masking: a pool customer's phone and every contact's mobile, phone and email never
appear raw in any output, for anybody; the claimer sees them again.

Each test looks for the raw strings in the whole response body."""

import json

import pytest

from kehu.customers import masking
from kehu.customers.models import Contact, Customer
from kehu.customers.services import customer_update
from kehu.pool.services import claim_customers, release_customers

PHONE_A = "15263698652"
PHONE_A_OLD = "13911112222"
CONTACT_MOBILE = "18605921234"
CONTACT_PHONE = "0592-5557788"
CONTACT_EMAIL = "boss@hengtong.cn"
PHONE_B = "13706051234"
RAW = [PHONE_A, PHONE_A_OLD, CONTACT_MOBILE, CONTACT_PHONE, CONTACT_EMAIL, PHONE_B]
READERS = ["admin", "manager1", "sales1", "sales2", "sales3"]


def assert_no_raw(body: str, where: str) -> None:
    leaked = [raw for raw in RAW if raw in body]
    assert not leaked, f"{where} shows raw contact data: {leaked}"


@pytest.fixture
def pool_pair(org, make_customer):
    """Two pool customers released by sales1. A had its phone changed once (so the change log
    holds an old and a new raw phone) and has a second contact with mobile, landline and email."""
    a = make_customer("sales1", name="厦门恒通物流有限公司", contact_phone=PHONE_A_OLD)
    a = customer_update(
        actor=org["sales1"],
        customer=a,
        data={"contact_phone": PHONE_A},
        version=a.version,
        partial=True,
        confirm_duplicates=True,
    )
    Contact.objects.create(
        customer=a, name="王总", mobile=CONTACT_MOBILE, phone=CONTACT_PHONE, email=CONTACT_EMAIL
    )
    b = make_customer("sales1", name="泉州宏达机械厂", contact_phone=PHONE_B)
    result = release_customers(actor=org["sales1"], ids=[a.pk, b.pk], reason="联系不上")
    assert sorted(result.done) == sorted([a.pk, b.pk])
    return Customer.objects.get(pk=a.pk), Customer.objects.get(pk=b.pk)


def test_mask_functions():
    assert masking.mask_phone("15263698652") == "152****8652"
    assert masking.mask_phone("0592-5557788") == "0592-***7788"
    assert masking.mask_email("boss@hengtong.cn") == "b***@hengtong.cn"
    assert masking.mask_phone("") == "" and masking.mask_email(None) == ""
    changes = {"contact_phone": ["13911112222", "15263698652"], "name": ["甲", "乙"]}
    assert masking.mask_log_changes(changes, True) == {
        "contact_phone": ["139****2222", "152****8652"],
        "name": ["甲", "乙"],
    }
    assert masking.mask_log_changes(changes, False) == changes


@pytest.mark.parametrize("username", READERS)
def test_pool_page_is_masked(pool_pair, client_for, username):
    response = client_for(username).get("/pool/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "厦门恒通物流有限公司" in body and "泉州宏达机械厂" in body
    assert "152****8652" in body and "137****1234" in body
    assert_no_raw(body, f"/pool/ as {username}")


@pytest.mark.parametrize("username", READERS)
def test_pool_api_is_masked(pool_pair, api_client, username):
    response = api_client(username).get("/api/v1/pool/customers?page_size=200")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    phones = {c["name"]: c["contact_phone"] for c in body["items"]}
    assert phones == {"厦门恒通物流有限公司": "152****8652", "泉州宏达机械厂": "137****1234"}
    assert all(c["in_pool"] and c["owner"] is None for c in body["items"])
    assert_no_raw(response.content.decode(), f"/api/v1/pool/customers as {username}")


@pytest.mark.parametrize("username", READERS)
def test_pool_customer_page_and_api_detail_are_masked(pool_pair, client_for, api_client, username):
    """The portrait and GET /customers/<id> open a pool customer for whoever may browse its
    pool (SPEC §3, §10: same visibility and masking), every tab masked."""
    a, _ = pool_pair
    for tab in ("followups", "contacts", "log", "attachments"):
        response = client_for(username).get(f"/customers/{a.pk}/?tab={tab}")
        assert response.status_code == 200
        assert_no_raw(response.content.decode(), f"/customers/{a.pk}/ as {username}")
    response = api_client(username).get(f"/api/v1/customers/{a.pk}")
    assert response.status_code == 200
    assert response.json()["in_pool"] and response.json()["contact_phone"] == "152****8652"
    assert_no_raw(response.content.decode(), f"/api/v1/customers/{a.pk} as {username}")


@pytest.mark.parametrize("username", READERS)
def test_customer_list_and_its_phone_search_leave_pool_customers_out(
    pool_pair, client_for, api_client, username
):
    for url in ("/customers/", f"/customers/?phone={PHONE_A}", f"/customers/?q={PHONE_A[-4:]}"):
        body = client_for(username).get(url).content.decode()
        assert "厦门恒通物流有限公司" not in body
    for url in ("/api/v1/customers", f"/api/v1/customers?phone={PHONE_A}"):
        response = api_client(username).get(url)
        assert response.status_code == 200 and response.json()["count"] == 0
        assert_no_raw(response.content.decode(), f"{url} as {username}")


@pytest.mark.parametrize("username", ["sales2", "sales3", "admin"])
def test_duplicate_check_page_shows_existence_but_no_contact_data(pool_pair, client_for, username):
    client = client_for(username)
    body = client.get("/customers/duplicate-check/", {"name": "恒通物流"}).content.decode()
    assert "厦门恒通物流有限公司" in body and "公海" in body
    assert_no_raw(body, "duplicate check by name")
    for phone in (PHONE_A, CONTACT_MOBILE, CONTACT_PHONE):
        body = client.get("/customers/duplicate-check/", {"phone": phone}).content.decode()
        results = body[body.index('data-testid="dedupe-results"') :]
        assert "厦门恒通物流有限公司" in results and "公海" in results
        # The input field echoes what the user typed; the results never show contact data.
        assert_no_raw(results, f"duplicate check by {phone}")


@pytest.mark.parametrize("username", ["sales2", "sales3", "admin"])
def test_duplicate_check_api_shows_existence_but_no_contact_data(pool_pair, api_client, username):
    client = api_client(username)
    for query in ({"name": "恒通物流"}, {"phone": PHONE_A}, {"phone": CONTACT_MOBILE}):
        response = client.post(
            "/api/v1/customers/duplicate-check", json.dumps(query), content_type="application/json"
        )
        assert response.status_code == 200
        (match,) = response.json()["matches"]
        assert match["name"] == "厦门恒通物流有限公司" and match["in_pool"] is True
        assert match["owner_name"] is None
        assert set(match) <= {"name", "owner_name", "in_pool", "status", "created_at", "reason"}
        assert_no_raw(response.content.decode(), f"duplicate-check API {query}")


def test_pool_search_by_raw_phone_does_not_single_out_a_customer(pool_pair, client_for, api_client):
    refused = api_client("sales2").get(f"/api/v1/pool/customers?phone={PHONE_A}")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "公海客户不能按联系电话搜索，请使用查重"
    assert "phone" in refused.json()["errors"]
    assert_no_raw(refused.content.decode(), "refused pool phone search")
    # The page has no phone filter: the parameter is ignored and every pool customer is listed.
    html = client_for("sales2").get(f"/pool/?phone={PHONE_A}").content.decode()
    assert "厦门恒通物流有限公司" in html and "泉州宏达机械厂" in html
    assert "总共 2 条记录" in html
    # The keyword box searches names, never phones: a raw phone finds nothing at all.
    for value in (PHONE_A, PHONE_A[-4:], CONTACT_MOBILE):
        html = client_for("sales2").get("/pool/", {"q": value}).content.decode()
        assert "厦门恒通物流有限公司" not in html and "泉州宏达机械厂" not in html
        body = api_client("sales2").get("/api/v1/pool/customers", {"q": value}).json()
        assert body["count"] == 0
    body = api_client("sales2").get("/api/v1/pool/customers", {"q": "恒通"}).json()
    assert [c["name"] for c in body["items"]] == ["厦门恒通物流有限公司"]


def test_claimer_sees_the_raw_contact_data_again(pool_pair, org, client_for, api_client):
    a, b = pool_pair
    assert claim_customers(actor=org["sales2"], ids=[a.pk]).done == [a.pk]
    body = api_client("sales2").get(f"/api/v1/customers/{a.pk}").json()
    assert body["contact_phone"] == PHONE_A and body["in_pool"] is False
    assert body["owner"]["id"] == org["sales2"].pk
    html = client_for("sales2").get(f"/customers/{a.pk}/?tab=contacts").content.decode()
    for raw in (PHONE_A, CONTACT_MOBILE, CONTACT_PHONE, CONTACT_EMAIL):
        assert raw in html
    # The other pool customer stays masked on the pool page; the claimed one has left it.
    html = client_for("sales2").get("/pool/").content.decode()
    assert "厦门恒通物流有限公司" not in html and "137****1234" in html
    assert PHONE_B not in html
    # The previous owner lost it: not visible any more.
    assert client_for("sales1").get(f"/customers/{a.pk}/").status_code == 404


def test_portrait_log_after_a_claim_and_release_cycle(pool_pair, org, client_for, api_client):
    """The claimer reads the whole history (with raw values: they may see the contact data);
    once released again the pool page shows the log masked, and only an admin reads it through
    the audit API."""
    a, _ = pool_pair
    claim_customers(actor=org["sales2"], ids=[a.pk])
    html = client_for("sales2").get(f"/customers/{a.pk}/?tab=log").content.decode()
    assert "放入公海：联系不上" in html and "领取" in html
    assert PHONE_A in html  # the contact_phone change, visible to the owner
    release_customers(actor=org["sales2"], ids=[a.pk], reason="再次放回")
    for username in ("sales1", "sales2", "sales3", "manager1"):
        page = client_for(username).get(f"/customers/{a.pk}/?tab=log")
        assert page.status_code == 200
        assert_no_raw(page.content.decode(), f"/customers/{a.pk}/?tab=log as {username}")
        response = api_client(username).get(
            f"/api/v1/audit?object_type=customers.customer&object_id={a.pk}"
        )
        assert response.status_code == 404
        assert_no_raw(response.content.decode(), f"/api/v1/audit as {username}")


def test_admin_audit_api_masks_contact_values_of_a_pool_customer(pool_pair, api_client):
    a, _ = pool_pair
    response = api_client("admin").get(
        f"/api/v1/audit?object_type=customers.customer&object_id={a.pk}&page_size=200"
    )
    assert response.status_code == 200
    actions = [row["action"] for row in response.json()["items"]]
    assert "to_pool" in actions and "update" in actions
    assert_no_raw(response.content.decode(), "/api/v1/audit as admin")


def test_admin_audit_page_masks_contact_values_of_a_pool_customer(pool_pair, client_for):
    a, _ = pool_pair
    response = client_for("admin").get(f"/audit/?object_type=customers.customer&object_id={a.pk}")
    body = response.content.decode()
    assert response.status_code == 200 and "厦门恒通物流有限公司" in body
    assert_no_raw(body, "/audit/ as admin")
