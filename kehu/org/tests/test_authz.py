"""The one authorization rule (kehu/org/authz.py) as the services apply it: a data scope of
"all" is not a permission to write, add is not edit, and sharing needs its own permission.

Each test here reproduces a finding of issue 9 that held before the rule existed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kehu.audit.models import ChangeLog
from kehu.core.attachments import attachments_of
from kehu.core.errors import Forbidden
from kehu.customers.models import Contact, Customer, CustomerShare
from kehu.customers.services import (
    contact_delete,
    contact_save,
    customer_attach,
    customer_create,
    customer_share,
    customer_update,
)
from kehu.followups.models import FollowUp
from kehu.followups.services import followup_create
from kehu.org.authz import authorize, can, permission_for
from kehu.org.models import DataScope, Role, User
from kehu.sales.models import Lead, LeadStatus
from kehu.sales.services import lead_convert, lead_delete, lead_mark_invalid, lead_save


@pytest.fixture
def c1(org) -> Customer:
    return customer_create(
        actor=org["sales1"],
        data={
            "name": "鑫达叉车租赁有限公司",
            "contact_name": "王经理",
            "contact_phone": "13911112222",
        },
        confirm_duplicates=True,
    )


@pytest.fixture
def lead1(org) -> Lead:
    return lead_save(
        actor=org["sales1"],
        instance=None,
        data={"name": "华东仓储", "contact_name": "李工", "contact_phone": "13722223333"},
    )


def make_user(username: str, perms: list[str], scope=DataScope.SELF) -> User:
    role = Role.objects.create(name=f"角色{username}", code=username, data_scope=scope)
    for name in perms:
        app, codename = name.split(".")
        role.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    user = User.objects.create_user(username=username, password="x", name=username)
    user.roles.add(role)
    return user


def test_permission_names_follow_model_and_action():
    assert permission_for(Contact, "add") == "customers.add_contact"
    assert permission_for(Contact, "change") == "customers.change_contact"
    assert permission_for(Customer, "lock") == "customers.change_customer"
    assert permission_for(Customer, "share") == "customers.share_customer"
    with pytest.raises(ValueError):
        permission_for(Customer, "fly")


def test_finance_sees_everything_and_changes_nothing(org, c1, lead1):
    finance = org["finance1"]
    contact = c1.contacts.get()
    before = (ChangeLog.objects.count(), Customer.objects.get(pk=c1.pk).version)
    refusals = [
        lambda: contact_save(
            actor=finance, instance=None, data={"customer": c1.pk, "name": "新联系人"}
        ),
        lambda: contact_save(actor=finance, instance=contact, data={"name": "改名"}),
        lambda: contact_delete(actor=finance, instance=contact),
        lambda: followup_create(actor=finance, customer=c1, data={"content": "电话回访"}),
        lambda: customer_attach(
            actor=finance, customer=c1, files=[SimpleUploadedFile("报价.pdf", b"%PDF-1.4")]
        ),
        lambda: customer_update(actor=finance, customer=c1, data={"remark": "x"}, version=1),
        lambda: customer_share(actor=finance, customer=c1, user_ids=[org["sales3"].pk]),
        lambda: lead_save(actor=finance, instance=lead1, data={"name": "改名"}),
        lambda: lead_mark_invalid(actor=finance, lead=lead1, reason="无需求"),
        lambda: lead_delete(actor=finance, instance=lead1),
        lambda: lead_convert(actor=finance, lead=lead1),
    ]
    for attempt in refusals:
        with pytest.raises(Forbidden) as caught:
            attempt()
        assert "权限" in caught.value.message or "负责人" in caught.value.message
    assert (ChangeLog.objects.count(), Customer.objects.get(pk=c1.pk).version) == before
    assert not FollowUp.objects.exists()
    assert not CustomerShare.objects.exists()
    assert not attachments_of(c1).exists()
    lead1.refresh_from_db()
    assert (lead1.name, lead1.status) == ("华东仓储", LeadStatus.FOLLOWING)
    assert can(finance, "view", c1) and not can(finance, "change", c1)


def test_finance_web_and_api_writes_answer_403(org, c1, client_for, api_client):
    web, api = client_for("finance1"), api_client("finance1")
    contact = c1.contacts.get()
    assert web.post(reverse("contact_add"), {"customer": c1.pk, "name": "x"}).status_code == 403
    assert web.post(reverse("contact_edit", args=[contact.pk]), {"name": "x"}).status_code == 403
    assert web.post(reverse("followup_add", args=[c1.pk]), {"content": "x"}).status_code == 403
    assert web.post(reverse("customer_share", args=[c1.pk]), {"users": []}).status_code == 403
    created = api.post(
        "/api/v1/contacts",
        {"customer_id": c1.pk, "name": "x"},
        content_type="application/json",
    )
    assert created.status_code == 403 and "权限" in created.json()["detail"]
    shared = api.post(
        f"/api/v1/customers/{c1.pk}/share",
        {"user_ids": [org["sales3"].pk]},
        content_type="application/json",
    )
    assert shared.status_code == 403
    assert not CustomerShare.objects.exists()
    assert Contact.objects.filter(customer=c1).count() == 1


def test_lists_answer_403_where_the_pages_do(org, c1, client_for, api_client):
    followup_create(actor=org["sales1"], customer=c1, data={"content": "电话回访"})
    for path, page in (("/api/v1/leads", "/leads/"), ("/api/v1/followups", "/followups/")):
        assert client_for("service1").get(page).status_code == 403
        answer = api_client("service1").get(path)
        assert answer.status_code == 403, path
        assert answer.json()["detail"].startswith("没有查看")
    assert api_client("sales1").get("/api/v1/followups").json()["count"] == 1


def test_adding_is_not_editing(org, lead1):
    clerk = make_user("clerk", ["sales.view_lead", "sales.add_lead"], scope=DataScope.ALL)
    data = {"name": "自己的线索", "contact_name": "周工", "contact_phone": "13600001111"}
    own = lead_save(actor=clerk, instance=None, data=data)
    with pytest.raises(Forbidden, match="没有编辑线索的权限"):
        lead_save(actor=clerk, instance=own, data={**data, "name": "改名"})
    from django.test import Client

    web = Client()
    web.force_login(clerk)
    assert web.get(reverse("lead_add")).status_code == 200
    assert web.get(reverse("lead_edit", args=[lead1.pk])).status_code == 403
    assert web.post(reverse("lead_edit", args=[lead1.pk]), {"name": "改名"}).status_code == 403
    lead1.refresh_from_db()
    assert lead1.name == "华东仓储"


def test_sharing_needs_the_share_permission(org, c1):
    perms = ["customers.view_customer", "customers.change_customer"]
    deputy = make_user("deputy", perms, scope=DataScope.ALL)
    assert can(deputy, "change", c1)
    with pytest.raises(Forbidden, match="没有分享客户的权限"):
        customer_share(actor=deputy, customer=c1, user_ids=[org["sales3"].pk])
    customer_share(actor=org["sales1"], customer=c1, user_ids=[org["sales3"].pk])
    assert CustomerShare.objects.filter(customer=c1, user=org["sales3"]).exists()


def test_adding_to_someone_elses_customer_needs_their_scope(org, c1):
    with pytest.raises(Forbidden, match="客户的负责人"):
        authorize(org["sales3"], "add", Contact(customer=c1))
    authorize(org["manager1"], "add", Contact(customer=c1))  # 销售一部 is below 销售部


@pytest.mark.parametrize("url_name", ["contact_add", "opportunity_add"])
def test_preselected_customer_goes_through_visibility(org, c1, client_for, url_name):
    url = reverse(url_name)
    hidden = client_for("sales3").get(f"{url}?customer={c1.pk}")
    assert hidden.status_code == 404 and c1.name not in hidden.content.decode()
    missing = client_for("sales3").get(f"{url}?customer=987654321")
    assert [r.status_code for r in (hidden, missing)] == [404, 404]  # alike
    assert "客户不存在或无权查看" in missing.content.decode()
    shown = client_for("sales1").get(f"{url}?customer={c1.pk}")
    assert c1.name in shown.content.decode()
    for bad in ("abc", "-1", "99999999999999999999999", "1e3"):
        answer = client_for("sales1").get(f"{url}?customer={bad}")
        assert answer.status_code == 404, bad
        assert "客户不存在或无权查看" in answer.content.decode()
    posted = client_for("sales1").post(url, {"customer": "99999999999999999999999", "name": "x"})
    assert posted.status_code == 400
    assert "客户不存在或无权查看" in posted.content.decode()
