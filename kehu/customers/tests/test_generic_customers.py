"""客户: the generic page and API tests (kehu/core/testing.py) declared for customers."""

from __future__ import annotations

from kehu.core.testing import APIViewTestCases, ViewTestCases, customer_for, unique, unique_mobile
from kehu.customers.models import Customer


class CustomerCase:
    model = Customer
    owner, outsider, read_only = "sales1", "sales3", "finance1"  # finance: scope all, view only

    def make(self, org):
        return customer_for(org[self.owner])


class TestCustomerPages(
    CustomerCase,
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    url_name = "customer"
    max_list_queries = 18  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def form_data(self, obj):
        # ``version``: the edit form's optimistic lock; ``confirm_duplicates``: the generated
        # names are alike, and a user confirms the 相似客户 warning the same way.
        return {
            "name": unique("页面客户") + "有限公司",
            "contact_name": "王经理",
            "contact_phone": unique_mobile(),
            "remark": "通用测试",
            "version": obj.version,
            "confirm_duplicates": "True",
        }


class TestCustomerAPI(
    CustomerCase,
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Update,
    APIViewTestCases.Delete,
):
    api_path = "/api/v1/customers"
    max_list_queries = 10
    invalid_field = "contact_phone"

    def create_data(self, obj):
        return {
            "name": unique("接口客户") + "有限公司",
            "contact_name": "赵总",
            "contact_phone": unique_mobile(),
            "confirm_duplicates": True,
        }

    def invalid_create_data(self, obj):
        return {"name": unique("坏电话客户"), "contact_name": "赵总", "contact_phone": "123"}

    def update_data(self, obj):
        return {"version": obj.version, "remark": unique("接口备注")}
