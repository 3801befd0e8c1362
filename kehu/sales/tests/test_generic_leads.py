"""线索: the generic page and API tests (kehu/core/testing.py) declared for leads."""

from __future__ import annotations

from kehu.core.testing import APIViewTestCases, ViewTestCases, unique, unique_mobile
from kehu.sales.models import Lead
from kehu.sales.services import lead_save


class LeadCase:
    model = Lead
    owner, outsider, read_only = "sales1", "sales3", "finance1"
    read_only_view_status = 403  # finance has no permission on leads at all

    def make(self, org):
        data = {
            "name": unique("通用线索") + "有限公司",
            "contact_name": "钱七",
            "contact_phone": unique_mobile(),
        }
        return lead_save(actor=org[self.owner], instance=None, data=data)


class TestLeadPages(
    LeadCase,
    ViewTestCases.ListView,
    ViewTestCases.AddView,
    ViewTestCases.EditView,
    ViewTestCases.DeleteView,
):
    url_name = "lead"
    max_list_queries = 17  # +1: the badge's documents count (待我审批 + 回款计划到期)

    def form_data(self, obj):
        return {
            "name": unique("页面线索") + "有限公司",
            "contact_name": "孙八",
            "contact_phone": unique_mobile(),
            "address": "福建省厦门市思明区展会路2号",
            "remark": "展会名片",
        }


class TestLeadAPI(
    LeadCase,
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Update,
    APIViewTestCases.Delete,
):
    api_path = "/api/v1/leads"
    max_list_queries = 7
    invalid_field = "contact_phone"

    def create_data(self, obj):
        return {
            "name": unique("接口线索") + "有限公司",
            "contact_name": "周九",
            "contact_phone": unique_mobile(),
        }

    def invalid_create_data(self, obj):
        return {"name": unique("坏电话线索"), "contact_name": "周九", "contact_phone": "1"}

    def update_data(self, obj):
        return {"name": unique("改名线索") + "有限公司", "remark": "电话回访"}
