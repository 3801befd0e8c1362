"""客户车辆, 维修订单, 保养订单: the generic page and API tests (kehu/core/testing.py), declared
through the document cases of the sales documents (kehu/sales/tests/test_generic_documents.py).

The samples belong to sales1's customers shared with service1 (售后, scope self): service1 adds,
edits and deletes them (after-sales documents: the permission and a visible customer decide),
sales1 — the customer's owner, with the view permission only — reads them (403 on writes), and
service2 — another 售后 the customer is not shared with — sees nothing of them (404)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from kehu.core.testing import customer_for, unique
from kehu.customers.services import customer_share
from kehu.sales.tests.test_generic_documents import (
    NO_ITEMS,
    DocumentAPI,
    DocumentCase,
    DocumentPages,
    holds,
)

pytestmark = pytest.mark.django_db


class ServedCase(DocumentCase):
    owner, outsider, read_only = "service1", "service2", "sales1"

    def parent(self, org):
        customer = customer_for(org["sales1"])
        customer_share(actor=org["sales1"], customer=customer, user_ids=[org["service1"].pk])
        return customer

    def label(self, obj) -> str:
        return obj.number  # the lists show the number (no 备注 column, as the seed's)


class VehicleCase(ServedCase):
    key = "vehicle"
    invalid_field = "name"

    def fields(self, customer):
        return {"customer": customer.pk, "name": unique("叉车"), "spec": "3吨"}

    def form(self, obj):
        return {
            "customer": obj.customer_id,
            "name": unique("页面叉车"),
            "spec": "2.5吨",
            "maintenance_interval_days": "60",
            "next_maintenance_at": "2026-12-01",
        }

    def body(self, obj):
        return {"customer_id": obj.customer_id, "name": unique("接口叉车")}

    def bad_body(self, obj):
        return {"customer_id": obj.customer_id, "name": "   "}


class OrderCase(ServedCase):
    invalid_field = "amount"

    def fields(self, customer):
        return {"customer": customer.pk, "amount": "160.00", "reason": "坏了"}

    def form(self, obj):
        return {
            "customer": obj.customer_id,
            "order_kind": "personal",
            "service_mode": "in_store",
            "service_at": "2026-11-01T10:00",
            "contact_name": "测试小A",
            "contact_phone": "15259696586",
            "reason": "轮胎鼓包",
            "amount": "110.00",
            **NO_ITEMS,
        }

    def body(self, obj):
        return {"customer_id": obj.customer_id, "amount": "1.00", "reason": "坏了"}

    def bad_body(self, obj):
        return {"customer_id": obj.customer_id, "amount": "-1"}


class RepairOrderCase(OrderCase):
    key = "repairorder"


class MaintenanceOrderCase(OrderCase):
    key = "maintenanceorder"


class AfterSalesPages(DocumentPages):
    max_list_queries = 18


class AfterSalesAPI(DocumentAPI):
    max_list_queries = 10


class TestVehiclePages(VehicleCase, AfterSalesPages):
    pass


class TestVehicleAPI(VehicleCase, AfterSalesAPI):
    pass


class TestRepairOrderPages(RepairOrderCase, AfterSalesPages):
    pass


class TestRepairOrderAPI(RepairOrderCase, AfterSalesAPI):
    pass


class TestMaintenanceOrderPages(MaintenanceOrderCase, AfterSalesPages):
    pass


class TestMaintenanceOrderAPI(MaintenanceOrderCase, AfterSalesAPI):
    pass


# --- roles × the lists -----------------------------------------------------------------------------

ROLES = ["admin", "manager1", "sales1", "sales2", "sales3", "service1", "finance1"]
PAGES: dict[str, Any] = {
    "list": ("view", lambda d: reverse(f"{d.url_name}_list"), False),
    "add": ("add", lambda d: reverse(f"{d.url_name}_add"), False),
    "api list": ("view", lambda d: f"/api/v1/{d.api_path}", True),
}


@pytest.mark.parametrize("action", list(PAGES))
@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("key", ["vehicle", "repairorder", "maintenanceorder"])
def test_each_role_is_answered_by_its_permission(org, key, username, action):
    """售后 views and adds all three; 销售经理 and 业务员 view them; 财务 none: 200 or 403."""
    from django.test import Client

    from kehu.documents.types import registry
    from kehu.org.auth import issue_token

    decl = registry[key]
    verb, url, api = PAGES[action]
    allowed = holds(username, f"aftersales.{verb}_{decl.model._meta.model_name}")
    if api:
        client = Client(headers={"Authorization": f"Bearer {issue_token(org[username])}"})
    else:
        client = Client()
        client.force_login(org[username])
    response = client.get(url(decl))
    assert response.status_code == (200 if allowed else 403), response.content[:300]
