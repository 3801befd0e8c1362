"""联系人: the generic page and API tests (kehu/core/testing.py) declared for contacts."""

from __future__ import annotations

from kehu.core.testing import APIViewTestCases, ViewTestCases, customer_for, unique, unique_mobile
from kehu.customers.models import Contact
from kehu.customers.services import contact_save


class ContactCase:
    model = Contact
    owner, outsider, read_only = "sales1", "sales3", "finance1"

    def make(self, org, customer=None):
        """A second contact of a customer of the owner (a customer keeps its last contact)."""
        owner = org[self.owner]
        customer = customer or customer_for(owner)
        data = {"customer": customer.pk, "name": unique("通用联系人"), "mobile": unique_mobile()}
        return contact_save(actor=owner, instance=None, data=data)

    def make_many(self, org, n):
        customer = customer_for(org[self.owner])  # one customer: n + 1 rows, all on one page
        return [self.make(org, customer) for _ in range(n)]


class TestContactPages(
    ContactCase,
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    url_name = "contact"
    max_list_queries = 15  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def form_data(self, obj):
        return {
            "customer": obj.customer_id,
            "name": unique("改名联系人"),
            "mobile": unique_mobile(),
            "position": "采购经理",
            "gender": "female",
        }


class TestContactAPI(
    ContactCase,
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Update,
    APIViewTestCases.Delete,
):
    api_path = "/api/v1/contacts"
    max_list_queries = 8
    invalid_field = "mobile"

    def create_data(self, obj):
        return {
            "customer_id": obj.customer_id,
            "name": unique("接口联系人"),
            "mobile": unique_mobile(),
            "position": "厂长",
        }

    def invalid_create_data(self, obj):
        return {"customer_id": obj.customer_id, "name": "坏号码", "mobile": "123"}

    def update_data(self, obj):
        return {"name": unique("接口改名"), "position": "总经理"}
