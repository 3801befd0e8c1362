"""POST /api/v1/leads/{id}/convert with an empty body (issue 14.15, SPEC §10.1: every field of
the conversion is optional)."""

from __future__ import annotations

import json

import pytest

from kehu.customers.models import Customer
from kehu.sales.models import Lead
from kehu.sales.services import lead_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(org):
    return lead_save(
        actor=org["sales1"],
        instance=None,
        data={
            "name": "空请求体线索有限公司",
            "contact_name": "钱七",
            "contact_phone": "13600001111",
        },
    )


def url(lead) -> str:
    return f"/api/v1/leads/{lead.pk}/convert"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": b""},  # no body, no content type (curl -X POST)
        {"data": "", "content_type": "application/json"},  # an empty JSON body
        {"data": "{}", "content_type": "application/json"},
    ],
    ids=["no-body", "empty-json-body", "empty-object"],
)
def test_convert_with_an_empty_body(api_client, lead, kwargs):
    response = api_client("sales1").generic("POST", url(lead), **kwargs)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "空请求体线索有限公司"
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert lead.customer_id == body["id"]


def test_convert_with_bad_json_says_so_and_changes_nothing(api_client, lead):
    response = api_client("sales1").post(url(lead), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "请求体不是有效的 JSON"
    assert Lead.objects.get(pk=lead.pk).status != "converted"
    assert not Customer.objects.filter(name="空请求体线索有限公司").exists()


def test_convert_with_fields_still_takes_them(api_client, lead):
    body = {"legal_person": "钱七", "confirm_duplicates": True}
    response = api_client("sales1").post(
        url(lead), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Customer.objects.get(pk=response.json()["id"]).legal_person == "钱七"
