"""Text hygiene at the door beyond the customer form (issue 10, point 2): contacts, leads (and
their follow-ups and 无效原因), follow-ups and 商机 drop control characters through the one
helper (``validation.strip_control_characters``); tab and line breaks stay only in fields of
several lines. On PostgreSQL a NUL that got through would fail the save outright."""

from __future__ import annotations

from kehu.customers.models import Contact
from kehu.customers.validation import clean_text, strip_control_characters
from kehu.followups.models import FollowUp
from kehu.sales import services as sales
from kehu.sales.models import Lead, Opportunity


def test_the_helper():
    raw = "a\x00b\x0bc\td\ne\x85f\ud800g\ufffeh\x7f"
    assert strip_control_characters(raw) == "abc\td\nefgh"
    assert strip_control_characters(raw, multiline=False) == "abc d efgh"
    assert clean_text(" 名\n称\x00 ", "name") == "名 称"
    assert clean_text(" 第一行\r\n第二行\x00 ", "remark") == "第一行\r\n第二行"


def test_contacts_through_the_api(org, make_customer, client_for):
    customer = make_customer("sales1")
    api = client_for("sales1")
    response = api.post(
        "/api/v1/contacts",
        {
            "customer_id": customer.pk,
            "name": "王\u0000五\n",
            "mobile": "13900000001",
            "email": "wang\u0000@example.cn",
            "position": "采购\u000b经理",
            "remark": "第一行\n第二\u0001行",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(pk=response.json()["id"])
    assert (contact.name, contact.email, contact.position, contact.remark) == (
        "王五",
        "wang@example.cn",
        "采购经理",
        "第一行\n第二行",
    )
    response = api.patch(
        f"/api/v1/contacts/{contact.pk}",
        {"name": "王\u001f六"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["name"] == "王六"


def test_leads_their_followups_and_the_invalid_reason(org, client_for):
    api = client_for("sales1")
    response = api.post(
        "/api/v1/leads",
        {
            "name": "线索\u0000公司",
            "contact_name": "李\t四",
            "contact_phone": "13900000002",
            "address": "厦门市\n思明区",
            "remark": "备注\n第二行\u0007",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.name, lead.contact_name, lead.address, lead.remark) == (
        "线索公司",
        "李 四",
        "厦门市 思明区",
        "备注\n第二行",
    )
    followup = sales.lead_followup_create(
        actor=org["sales1"], lead=lead, data={"content": "电话\u0000沟通\n约了下周"}
    )
    assert FollowUp.objects.get(pk=followup.pk).content == "电话沟通\n约了下周"
    response = api.patch(
        f"/api/v1/leads/{lead.pk}",
        {"status": "invalid", "invalid_reason": "空号\u0000\n重复"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.invalid_reason == "空号 重复"


def test_followups_and_opportunities(org, make_customer, client_for):
    customer = make_customer("sales1")
    api = client_for("sales1")
    response = api.post(
        "/api/v1/followups",
        {"customer_id": customer.pk, "content": "拜访\u0000客户\n第二行\u001b"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert FollowUp.objects.get(pk=response.json()["id"]).content == "拜访客户\n第二行"
    response = api.post(
        "/api/v1/opportunities",
        {"customer_id": customer.pk, "name": "叉车\u0000采购\n项目", "remark": "预算\u0000\n待定"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    opportunity = Opportunity.objects.get(pk=response.json()["id"])
    assert (opportunity.name, opportunity.remark) == ("叉车采购 项目", "预算\n待定")
