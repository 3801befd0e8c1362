"""商机: the generic page and API tests (kehu/core/testing.py) declared for opportunities."""

from __future__ import annotations

from kehu.core.testing import APIViewTestCases, ViewTestCases, customer_for, unique
from kehu.sales.models import Opportunity
from kehu.sales.services import opportunity_save


class OpportunityCase:
    model = Opportunity
    owner, outsider, read_only = "sales1", "sales3", "finance1"
    read_only_view_status = 403  # finance has no permission on 商机

    def make(self, org, customer=None):
        owner = org[self.owner]
        data = {"customer": customer or customer_for(owner), "name": unique("通用商机")}
        return opportunity_save(actor=owner, instance=None, data=data)

    def make_many(self, org, n):
        customer = customer_for(org[self.owner])
        return [self.make(org, customer) for _ in range(n)]


class TestOpportunityPages(
    OpportunityCase,
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    url_name = "opportunity"
    max_list_queries = 15  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def form_data(self, obj):
        return {
            "customer": obj.customer_id,
            "name": unique("页面商机"),
            "budget": "300000",
            "status": "open",
            "remark": "两台叉车",
        }


class TestOpportunityAPI(
    OpportunityCase,
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Update,
    APIViewTestCases.Delete,
):
    api_path = "/api/v1/opportunities"
    max_list_queries = 8
    invalid_field = "name"

    def create_data(self, obj):
        return {"customer_id": obj.customer_id, "name": unique("接口商机"), "budget": "120000"}

    def invalid_create_data(self, obj):
        return {"customer_id": obj.customer_id, "name": "   "}

    def update_data(self, obj):
        return {"name": unique("改名商机"), "remark": "客户要求降价"}
