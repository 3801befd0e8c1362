import json

import pytest

from kehu.core.errors import ApplicationError, Conflict, Forbidden
from kehu.customers.models import Customer
from kehu.followups.models import FollowUp
from kehu.sales.models import Lead
from kehu.sales.services import lead_convert, lead_followup_create, lead_mark_invalid, lead_save

VALID_USCC = "91350100M000100Y43"


@pytest.fixture
def lead(org):
    return lead_save(
        actor=org["sales1"],
        instance=None,
        data={
            "name": "展会线索有限公司",
            "contact_name": "钱七",
            "contact_phone": "136 0000 1111",
            "address": "福建省厦门市思明区展会路1号",
        },
    )


def test_conversion_creates_exactly_one_customer_and_carries_followups(org, lead):
    lead_followup_create(actor=org["sales1"], lead=lead, data={"content": "展会上聊过，需要叉车"})
    customer = lead_convert(actor=org["sales1"], lead=lead)
    lead.refresh_from_db()
    assert Customer.objects.count() == 1
    assert (lead.status, lead.customer_id) == ("converted", customer.pk)
    assert (customer.name, customer.contact_phone, customer.owner, customer.district_id) == (
        "展会线索有限公司",
        "13600001111",
        org["sales1"],
        "350203",
    )
    assert customer.source.name == "线索转化"
    assert FollowUp.objects.get().customer_id == customer.pk and customer.contacts.count() == 1
    customer.refresh_from_db()
    assert customer.last_followup_at is not None


def test_converting_twice_or_invalid_is_refused(org, lead):
    lead_convert(actor=org["sales1"], lead=lead)
    with pytest.raises(Conflict, match="不能重复转化"):
        lead_convert(actor=org["sales1"], lead=lead)
    assert Customer.objects.count() == 1
    other = lead_save(
        actor=org["sales1"],
        instance=None,
        data={"name": "无效线索", "contact_name": "甲", "contact_phone": "13600002222"},
    )
    with pytest.raises(ApplicationError, match="请填写无效原因"):
        lead_mark_invalid(actor=org["sales1"], lead=other, reason=" ")
    lead_mark_invalid(actor=org["sales1"], lead=other, reason="空号")
    with pytest.raises(ApplicationError, match="无效线索不能转为客户"):
        lead_convert(actor=org["sales1"], lead=other)


def test_duplicate_credit_code_is_refused_clearly_and_the_lead_stays(org, lead, make_customer):
    make_customer("sales2", name="已有公司", credit_code=VALID_USCC)
    with pytest.raises(ApplicationError) as exc:
        lead_convert(actor=org["sales1"], lead=lead, extra={"credit_code": VALID_USCC})
    assert "已被客户「已有公司」使用" in exc.value.errors["credit_code"][0]
    lead.refresh_from_db()
    assert lead.status == "following" and Customer.objects.count() == 1


def test_similar_customer_needs_confirmation(org, lead, make_customer):
    make_customer("sales2", name="展会线索股份有限公司")
    with pytest.raises(ApplicationError) as exc:
        lead_convert(actor=org["sales1"], lead=lead)
    assert exc.value.code == "possible_duplicates"
    lead_convert(actor=org["sales1"], lead=lead, confirm_duplicates=True)
    assert Customer.objects.count() == 2


def test_leads_are_scoped_and_validated(org, lead, client_for):
    with pytest.raises(Forbidden):
        lead_convert(actor=org["sales2"], lead=lead)
    with pytest.raises(ApplicationError) as exc:
        lead_save(
            actor=org["sales1"],
            instance=None,
            data={"name": "", "contact_name": "", "contact_phone": "1"},
        )
    assert set(exc.value.errors) == {"name", "contact_name", "contact_phone"}
    assert client_for("sales2").get("/api/v1/leads").json()["count"] == 0
    assert client_for("manager1").get("/api/v1/leads?tab=subordinates").json()["count"] == 1
    assert client_for("sales2").get(f"/api/v1/leads/{lead.pk}").status_code == 404


def test_lead_api_and_pages(org, lead, client_for):
    api = client_for("sales1")
    created = api.post(
        "/api/v1/leads",
        json.dumps({"name": "接口线索", "contact_name": "乙", "contact_phone": "13600003333"}),
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "following"
    converted = api.post(
        f"/api/v1/leads/{lead.pk}/convert", json.dumps({}), content_type="application/json"
    )
    assert converted.status_code == 201 and converted.json()["name"] == "展会线索有限公司"
    again = api.post(
        f"/api/v1/leads/{lead.pk}/convert", json.dumps({}), content_type="application/json"
    )
    assert again.status_code == 409 and "不能重复转化" in again.json()["detail"]
    page = api.get("/leads/").content.decode()
    assert 'data-testid="lead-customer"' in page and "接口线索" in page
    invalid = api.patch(
        f"/api/v1/leads/{created.json()['id']}",
        json.dumps({"status": "invalid", "invalid_reason": "重复"}),
        content_type="application/json",
    )
    assert invalid.status_code == 200 and invalid.json()["status"] == "invalid"
    assert Lead.objects.get(pk=created.json()["id"]).invalid_reason == "重复"
