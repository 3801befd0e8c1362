"""The pool customer's own page (issue 9 point 6, SPEC §3): ``/customers/<id>/`` opens a pool
customer for whoever holds ``customers.view_pool`` and browses its pool — masked, read-only, with
领取 as its action. Everybody else gets the same 404 as for a missing customer."""

from __future__ import annotations

import pytest

from kehu.customers.models import Contact, Customer
from kehu.customers.services import customer_update
from kehu.followups.models import FollowUp
from kehu.org.models import Department
from kehu.pool.models import Pool
from kehu.pool.services import claim_customers, release_customers

NAME = "厦门恒通物流有限公司"
PHONE = "15263698652"
MASKED = "152****8652"
PHONE_OLD = "13911112222"
CONTACT_MOBILE = "18605921234"
CONTACT_PHONE = "0592-5557788"
CONTACT_EMAIL = "boss@hengtong.cn"
RAW = [PHONE, PHONE_OLD, CONTACT_MOBILE, CONTACT_PHONE, CONTACT_EMAIL]
READERS = ["admin", "manager1", "sales1", "sales2", "sales3"]
TABS = ["followups", "contacts", "opportunities", "log"]


def assert_no_raw(html: str, where: str) -> None:
    leaked = [raw for raw in RAW if raw in html]
    assert not leaked, f"{where} shows raw contact data: {leaked}"


@pytest.fixture
def pooled(org, make_customer) -> Customer:
    """A customer of sales1 with a phone change in its log, a second contact and a follow-up,
    released to the (default) pool."""
    customer = make_customer("sales1", name=NAME, contact_phone=PHONE_OLD)
    customer = customer_update(
        actor=org["sales1"],
        customer=customer,
        data={"contact_phone": PHONE},
        version=customer.version,
        partial=True,
        confirm_duplicates=True,
    )
    Contact.objects.create(
        customer=customer,
        name="王总",
        mobile=CONTACT_MOBILE,
        phone=CONTACT_PHONE,
        email=CONTACT_EMAIL,
    )
    FollowUp.objects.create(customer=customer, author=org["sales1"], content="客户说下季度再联系")
    result = release_customers(actor=org["sales1"], ids=[customer.pk], reason="暂无需求")
    assert result.done == [customer.pk], result.refused
    return Customer.objects.get(pk=customer.pk)


def error_box(response) -> str:
    """The error page's message box (the rest of the page carries a per-request CSRF token)."""
    html = response.content.decode()
    return html[html.index('data-testid="error-page"') :].split("</div>\n</div>")[0]


def page(client, customer, tab: str = "") -> str:
    url = f"/customers/{customer.pk}/" + (f"?tab={tab}" if tab else "")
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_a_salesperson_opens_a_pool_customer_masked_with_claim_and_no_edit(pooled, client_for):
    html = page(client_for("sales2"), pooled)
    assert NAME in html
    assert 'data-testid="pool-badge"' in html and "公海客户" in html
    assert MASKED in html
    assert_no_raw(html, "the pool customer's page")
    # 领取 posts to the pool's claim route; nothing that changes the customer is offered.
    assert 'data-testid="claim"' in html and 'hx-post="/pool/claim/"' in html
    assert f'"pk": "{pooled.pk}"' in html
    for url in (
        f"/customers/{pooled.pk}/edit/",
        f"/customers/{pooled.pk}/share/",
        f"/customers/{pooled.pk}/delete/",
        f"/customers/{pooled.pk}/lock/",
        "/customers/release/",
        "/customers/transfer/",
    ):
        assert url not in html, url
    for label in (">编辑<", ">分享<", ">转入公海<", ">删除<", ">转移客户<"):
        assert label not in html, label
    # The follow-ups are the customer's history, read-only: no form to add one.
    assert "客户说下季度再联系" in html
    assert 'data-testid="followup-add"' not in html
    assert "暂无跟进记录" not in html
    # Where it is and where it came from.
    assert "客户公海" in html and "李业务" in html  # the pool, the previous owner (sales1)


def test_tabs_are_read_only_and_masked(pooled, client_for):
    client = client_for("sales2")
    contacts = page(client, pooled, "contacts")
    assert "王总" in contacts
    assert "186****1234" in contacts and "0592-***7788" in contacts
    assert "b***@hengtong.cn" in contacts
    assert 'data-testid="contact-add"' not in contacts
    assert (
        "/contacts/" not in contacts.split('data-testid="contacts-table"')[1].split("</table>")[0]
    )
    opportunities = page(client, pooled, "opportunities")
    assert 'data-testid="opportunities-table"' in opportunities
    assert 'data-testid="opportunity-add"' not in opportunities
    log = page(client, pooled, "log")
    assert "139****2222" in log and MASKED in log  # the phone change, masked
    # A pool customer's attachments open for its owner only: no 附件 tab.
    assert "?tab=attachments" not in log
    assert page(client, pooled, "attachments").count('class="nav-link active"') == 1


@pytest.mark.parametrize("username", READERS)
def test_no_tab_shows_raw_contact_data_to_anybody(pooled, client_for, username):
    client = client_for(username)
    for tab in ["", *TABS, "attachments"]:
        html = page(client, pooled, tab)
        assert MASKED in html
        assert_no_raw(html, f"/customers/{pooled.pk}/?tab={tab} as {username}")
        assert 'data-testid="claim"' in html


def test_admin_too_sees_it_read_only(pooled, client_for):
    html = page(client_for("admin"), pooled)
    assert f"/customers/{pooled.pk}/edit/" not in html
    assert 'data-testid="followup-add"' not in html


def test_claiming_from_the_page(pooled, org, client_for):
    client = client_for("sales2")
    response = client.post("/pool/claim/", {"pk": pooled.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Trigger"] == "objectSaved"
    assert "成功 <strong>1</strong> 条" in response.content.decode()
    pooled.refresh_from_db()
    assert pooled.owner == org["sales2"]
    # Now sales2's own customer: the raw phone, the owner's buttons, no pool badge or 领取.
    html = page(client, pooled)
    assert PHONE in html
    assert f"/customers/{pooled.pk}/edit/" in html
    assert 'data-testid="pool-badge"' not in html and 'data-testid="claim"' not in html
    # …and nobody else opens it any more (it is private to sales2).
    assert client_for("sales1").get(f"/customers/{pooled.pk}/").status_code == 404


def test_a_claim_refused_there_says_why(pooled, org, client_for):
    assert claim_customers(actor=org["sales1"], ids=[pooled.pk]).done == [pooled.pk]
    response = client_for("sales2").post("/pool/claim/", {"pk": pooled.pk})
    assert "已被他人领取" in response.content.decode()


@pytest.mark.parametrize("username", ["service1", "finance1"])
def test_users_without_the_pool_permission_get_the_404(pooled, org, client_for, username):
    assert not org[username].has_perm("customers.view_pool")
    for tab in ["", *TABS]:
        response = client_for(username).get(f"/customers/{pooled.pk}/?tab={tab}")
        assert response.status_code == 404
        html = response.content.decode()
        assert NAME not in html
        assert "客户不存在或无权查看" in html
        assert_no_raw(html, f"/customers/{pooled.pk}/ as {username}")


def test_a_pool_one_may_not_browse_is_the_same_404_as_a_missing_customer(
    org, make_pool_customer, client_for
):
    branch = Pool.objects.create(name="二部公海")
    branch.departments.add(Department.objects.get(name="销售二部"))
    theirs = make_pool_customer("sales3", name="二部放出的客户")
    assert theirs.pool == branch
    hidden = client_for("sales1").get(f"/customers/{theirs.pk}/")
    missing = client_for("sales1").get("/customers/999999/")
    assert hidden.status_code == missing.status_code == 404
    assert "二部放出的客户" not in hidden.content.decode()
    assert "客户不存在或无权查看" in error_box(hidden)
    assert error_box(hidden) == error_box(missing)
    # Its own pool's members (and admins) open it.
    assert "二部放出的客户" in page(client_for("sales3"), theirs)
    assert "二部放出的客户" in page(client_for("admin"), theirs)


def test_a_customer_without_a_pool_is_in_the_default_pool(pooled, client_for):
    Customer.objects.filter(pk=pooled.pk).update(pool=None)
    html = page(client_for("sales2"), pooled)
    assert 'data-testid="pool-badge"' in html and MASKED in html
    assert_no_raw(html, "a pool customer without a pool")


def test_a_private_customer_page_is_unchanged_for_its_owner(org, make_customer, client_for):
    customer = make_customer("sales1", name="泉州安达机械有限公司", contact_phone="13906001234")
    html = page(client_for("sales1"), customer)
    assert "13906001234" in html
    for url in (
        f"/customers/{customer.pk}/edit/",
        f"/customers/{customer.pk}/share/",
        f"/customers/{customer.pk}/delete/",
    ):
        assert url in html, url
    assert "转入公海" in html and 'data-testid="followup-add"' in html  # 跟进记录's 【添加】
    assert 'data-testid="pool-badge"' not in html and 'data-testid="claim"' not in html
    assert "?tab=attachments" in html
    # …and other salespeople still do not see it.
    assert client_for("sales2").get(f"/customers/{customer.pk}/").status_code == 404


def test_the_pool_list_links_to_the_page(pooled, client_for):
    html = client_for("sales2").get("/pool/").content.decode()
    assert f'<a href="/customers/{pooled.pk}/">{NAME}</a>' in html
