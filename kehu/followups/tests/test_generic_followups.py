"""跟进记录: the generic page and API tests (kehu/core/testing.py) declared for follow-ups.

Follow-ups are written, not edited: the page is the list and the add form of a customer
(``/customers/<id>/followups/add/``); the API lists, reads, creates and deletes."""

from __future__ import annotations

from django.urls import reverse

from kehu.core.testing import APIViewTestCases, ViewTestCases, customer_for, unique
from kehu.followups.models import FollowUp
from kehu.followups.services import followup_create


class FollowUpCase:
    model = FollowUp
    owner, outsider, read_only = "sales1", "sales3", "finance1"
    read_only_view_status = 403  # finance has no permission on follow-ups

    def make(self, org, customer=None):
        owner = org[self.owner]
        data = {"content": unique("通用跟进内容")}
        return followup_create(actor=owner, customer=customer or customer_for(owner), data=data)

    def make_many(self, org, n):
        customer = customer_for(org[self.owner])
        return [self.make(org, customer) for _ in range(n)]


class TestFollowUpPages(FollowUpCase, ViewTestCases.ListView, ViewTestCases.AddView):
    url_name = "followup"
    max_list_queries = 17  # +1: the badge's documents count (待我审批 + 回款计划到期)
    add_success_status = 204  # the modal closes (HX-Trigger) and the page refreshes

    def add_url(self, obj):
        return reverse("followup_add", args=[obj.customer_id])

    def form_data(self, obj):
        return {"content": unique("页面跟进：客户要报价")}


class TestFollowUpAPI(
    FollowUpCase,
    APIViewTestCases.List,
    APIViewTestCases.Get,
    APIViewTestCases.Create,
    APIViewTestCases.Delete,
):
    api_path = "/api/v1/followups"
    max_list_queries = 8
    invalid_field = "content"

    def create_data(self, obj):
        return {"customer_id": obj.customer_id, "content": unique("接口跟进：电话沟通")}

    def invalid_create_data(self, obj):
        return {"customer_id": obj.customer_id, "content": "   "}
